import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Client } from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { ProcessorEnv } from '../processor.env';

/** The background roles exactly one processor instance runs at a time (docs/deployment.md). */
export const LEADER_ROLES = [
  'ledger_relay',
  'read_models',
  'retry_scheduler',
  'alert_evaluator',
  'refused_retention',
  'click_retention',
] as const;
export type LeaderRole = (typeof LEADER_ROLES)[number];

/**
 * Role locks use the two-key form (namespace, role number): that key space never meets the
 * one-key locks the loops take per transaction, and the namespace differs from the conversion
 * locks' (7100).
 */
export const LEADER_NAMESPACE = 7_200;
export const leaderLockId = (role: LeaderRole): number => LEADER_ROLES.indexOf(role) + 1;

/** A role as its loop sees it. */
export interface RoleLease {
  readonly role: LeaderRole;
  /** Whether this instance holds the role now. */
  readonly held: boolean;
  /** Runs `fn` each time this instance takes the role. */
  onAcquired(fn: () => void): void;
}

/**
 * Who runs each background role: a session-level advisory lock per role, held on one dedicated
 * connection (not the pool). Postgres releases the locks when that connection ends, including
 * when the process is killed; every LEADER_POLL_MS each instance tries to take the roles it does
 * not hold, and the holder's attempt doubles as a check of its connection: an error, a timeout
 * or the connection ending drops every role it held (the loops stop starting work) and closes
 * the session, so its locks go free too.
 */
@Injectable()
export class Leadership implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Leadership');
  private readonly held = new Set<LeaderRole>();
  private readonly listeners = new Map<LeaderRole, (() => void)[]>();
  private readonly gauge: Gauge<'role'>;
  private readonly changes: Counter<'role' | 'change'>;
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
    @Inject(Registry) registry: Registry,
  ) {
    this.gauge = new Gauge({
      name: 'leader_role_held',
      help: 'Background roles this processor instance holds (1) or not (0); across instances each role has exactly one 1',
      labelNames: ['role'],
      registers: [registry],
    });
    for (const role of LEADER_ROLES) this.gauge.set({ role }, 0);
    this.changes = new Counter({
      name: 'leader_role_changes_total',
      help: 'Background roles this instance took (change="acquired"), lost (change="lost": its lock connection failed) or released on shutdown (change="released")',
      labelNames: ['role', 'change'],
      registers: [registry],
    });
  }

  lease(role: LeaderRole): RoleLease {
    const held = this.held;
    const listeners = this.listeners;
    return {
      role,
      get held() {
        return held.has(role);
      },
      onAcquired(fn) {
        listeners.set(role, [...(listeners.get(role) ?? []), fn]);
      },
    };
  }

  /** The roles this instance holds now. */
  roles(): LeaderRole[] {
    return LEADER_ROLES.filter((r) => this.held.has(r));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), this.env.LEADER_POLL_MS);
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
    // Closing the session frees the locks at once: another instance takes over on its next poll.
    this.drop('shutting down', 'released');
  }

  private kick(): void {
    if (this.running || this.stopping) return;
    this.running = this.poll()
      .catch((e: unknown) => this.drop(e instanceof Error ? e.message : String(e)))
      .finally(() => (this.running = undefined));
  }

  private async poll(): Promise<void> {
    const client = this.client ?? (await this.connect());
    const wanted = LEADER_ROLES.filter((r) => !this.held.has(r));
    // Run even when nothing is wanted: the round trip is the holder's check of its connection.
    const { rows } = await client.query<{ id: number; locked: boolean }>(
      `SELECT id, pg_try_advisory_lock($1, id) AS locked FROM unnest($2::int[]) id`,
      [LEADER_NAMESPACE, wanted.map(leaderLockId)],
    );
    if (this.stopping || client !== this.client) return;
    for (const r of rows) {
      const role = LEADER_ROLES[r.id - 1];
      if (r.locked && role) this.acquired(role);
    }
  }

  private async connect(): Promise<Client> {
    const keepalive = this.env.LEADER_KEEPALIVE_S;
    const client = new Client({
      connectionString: this.env.DATABASE_URL,
      application_name: `${this.env.KAFKA_CLIENT_ID}:leader`,
      // Our end: probes after `keepalive` s idle (Node then sends 10 probes 1 s apart).
      keepAlive: true,
      keepAliveInitialDelayMillis: keepalive * 1000,
      connectionTimeoutMillis: Math.max(3000, this.env.LEADER_POLL_MS),
      // A check that does not answer in time counts as a lost connection.
      query_timeout: Math.max(2000, this.env.LEADER_POLL_MS),
      // Postgres's end: how soon it notices a holder whose host vanished, and frees its locks.
      options: `-c tcp_keepalives_idle=${keepalive} -c tcp_keepalives_interval=${Math.ceil(keepalive / 2)} -c tcp_keepalives_count=3`,
    });
    client.on('error', (e) => client === this.client && this.drop(e.message));
    client.on('end', () => client === this.client && this.drop('lock connection ended'));
    try {
      await client.connect();
    } catch (e) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw e;
    }
    this.client = client;
    return client;
  }

  private acquired(role: LeaderRole): void {
    this.held.add(role);
    this.gauge.set({ role }, 1);
    this.changes.inc({ role, change: 'acquired' });
    this.log.log({ msg: 'role acquired', role, pid: process.pid });
    for (const fn of this.listeners.get(role) ?? []) fn();
  }

  /** Closes the lock connection (its locks go free) and gives up every role held. */
  private drop(why: string, change: 'lost' | 'released' = 'lost'): void {
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
    }
    for (const role of this.roles()) {
      this.held.delete(role);
      this.gauge.set({ role }, 0);
      this.changes.inc({ role, change });
      if (change === 'lost') this.log.warn({ msg: 'role lost', role, pid: process.pid, reason: why });
      else this.log.log({ msg: 'role released', role, pid: process.pid });
    }
  }
}
