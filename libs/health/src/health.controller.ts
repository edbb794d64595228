import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { HEALTH_INDICATORS, type HealthIndicator, runChecks } from './health';

const started = Date.now();

@Controller('health')
export class HealthController {
  constructor(@Inject(HEALTH_INDICATORS) private readonly indicators: () => HealthIndicator[]) {}

  /** Liveness: the process serves HTTP. Never checks dependencies (a restart would not fix them). */
  @ApiResponse({
    status: 200,
    description: '{"status": "ok", "uptime_s"}: the process is up (never checks dependencies)',
  })
  @Get('live')
  live(): { status: 'ok'; uptime_s: number } {
    return { status: 'ok', uptime_s: Math.round((Date.now() - started) / 1000) };
  }

  /** Readiness: every dependency answers; 503 with each failing check's reason otherwise. */
  @ApiResponse({ status: 200, description: '{"status": "ready", "checks"}: every dependency answers' })
  @ApiResponse({
    status: 503,
    description: '{"status": "not_ready", "checks"}: each failing check with its reason',
  })
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<unknown> {
    const report = await runChecks(this.indicators());
    if (report.status !== 'ready') void reply.status(503);
    return report;
  }
}
