import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { GatewayEnv } from '../gateway.env';
import { ApiError } from './api-error';

export const REPLAY_TIME_HEADER = 'x-replay-time';
export const REPLAY_TOKEN_HEADER = 'x-replay-token';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const digest = (s: string) => createHash('sha256').update(s).digest();
const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * The event time of a request. Normal traffic: undefined (the caller uses the wall clock). A
 * staging replay stamps the virtual time of its file (`X-Replay-Time`), so a compressed replay
 * decides what the same traffic in real time would; only with the operator's REPLAY_TOKEN.
 * A replay header that is not allowed is refused rather than ignored: a replay must never be
 * stamped with the wall clock without noticing.
 */
@Injectable()
export class ReplayClock {
  private readonly token: Buffer | undefined;

  constructor(@Inject(GatewayEnv) env: GatewayEnv) {
    this.token = env.REPLAY_TOKEN ? digest(env.REPLAY_TOKEN) : undefined;
  }

  eventTime(headers: Record<string, string | string[] | undefined>): Date | undefined {
    const raw = first(headers[REPLAY_TIME_HEADER]);
    if (raw === undefined) return undefined;
    if (!this.token) {
      throw new ApiError(
        400,
        'replay_disabled',
        'X-Replay-Time is refused: this gateway does not accept replays (REPLAY_TOKEN is not set)',
        REPLAY_TIME_HEADER,
      );
    }
    const given = first(headers[REPLAY_TOKEN_HEADER]);
    // Compared over digests: equal lengths, constant time.
    if (!given || !timingSafeEqual(digest(given), this.token)) {
      throw new ApiError(
        400,
        'replay_not_allowed',
        "X-Replay-Time needs X-Replay-Token equal to the gateway's REPLAY_TOKEN",
        REPLAY_TOKEN_HEADER,
      );
    }
    const at = ISO_UTC.test(raw) ? new Date(raw) : undefined;
    // A day or hour past its range (2026-02-30, T24:00) parses, rolled into the next month or
    // day: only a time that reads back as written is the one meant.
    if (!at || Number.isNaN(at.getTime()) || at.toISOString().slice(0, 19) !== raw.slice(0, 19)) {
      throw new ApiError(
        400,
        'invalid_replay_time',
        'X-Replay-Time must be an ISO 8601 UTC timestamp such as 2026-01-01T12:00:00.000Z',
        REPLAY_TIME_HEADER,
      );
    }
    return at;
  }
}
