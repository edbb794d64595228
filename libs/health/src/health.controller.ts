import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HEALTH_INDICATORS, type HealthIndicator, runChecks } from './health';

const started = Date.now();

@Controller('health')
export class HealthController {
  constructor(@Inject(HEALTH_INDICATORS) private readonly indicators: () => HealthIndicator[]) {}

  /** Liveness: the process serves HTTP. Never checks dependencies (a restart would not fix them). */
  @Get('live')
  live(): { status: 'ok'; uptime_s: number } {
    return { status: 'ok', uptime_s: Math.round((Date.now() - started) / 1000) };
  }

  /** Readiness: every dependency answers; 503 with each failing check's reason otherwise. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    const report = await runChecks(this.indicators());
    if (report.status !== 'ready') void reply.status(503);
    return report;
  }
}
