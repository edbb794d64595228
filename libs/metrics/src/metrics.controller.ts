import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Registry } from 'prom-client';
import { MetricsAuth } from './metrics-auth';

/** Prometheus scrape endpoint (text exposition format 0.0.4). */
@Controller()
export class MetricsController {
  constructor(
    @Inject(Registry) private readonly registry: Registry,
    @Inject(MetricsAuth) private readonly auth: MetricsAuth,
  ) {}

  @ApiResponse({ status: 200, description: 'Prometheus text exposition format 0.0.4' })
  @Get('metrics')
  @Header('cache-control', 'no-store')
  @Header('content-type', Registry.PROMETHEUS_CONTENT_TYPE)
  async metrics(@Req() req: FastifyRequest): Promise<string> {
    this.auth.check(req.headers.authorization);
    return this.registry.metrics();
  }
}
