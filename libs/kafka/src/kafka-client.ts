import { Logger } from '@nestjs/common';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  /** Prepended to topic and group names (tests share one broker this way). */
  topicPrefix: string;
}

const logger = new Logger('kafkajs');

// kafkajs logs "coordinator is loading" and connection retries at ERROR while recovering;
// they are expected during broker restarts, so they go out as warnings.
function logCreator() {
  return ({ level, log }: LogEntry) => {
    const { message, ...rest } = log;
    const text = `${String(message)} ${rest.error ? `(${String(rest.error)})` : ''}`.trim();
    if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(text);
    else if (level === logLevel.INFO) logger.debug(text);
  };
}

export function createKafka(opts: KafkaConnectionOptions): Kafka {
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    logLevel: logLevel.WARN,
    logCreator,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 },
  });
}

export function parseBrokers(list: string): string[] {
  return list
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** Races a promise against a timer; the loser is ignored (its rejection is swallowed). */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  p.catch(() => undefined);
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class TimeoutError extends Error {
  override name = 'TimeoutError';
}
