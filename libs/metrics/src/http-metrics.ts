import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { Histogram, Registry } from 'prom-client';
import { methodLabel, OTHER_LABEL, statusClass } from './label-bounder';

/** Request duration by route pattern (never the raw URL) and status class, from a Fastify hook. */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  private readonly duration: Histogram<'method' | 'route' | 'status_class'>;

  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(Registry) registry: Registry,
  ) {
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status class, from arrival to the last byte of the answer',
      labelNames: ['method', 'route', 'status_class'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (typeof fastify?.addHook !== 'function') return;
    fastify.addHook('onResponse', (req, reply, done) => {
      // The route pattern (`/v1/postbacks/:partnerId`) keeps the label bounded; unmatched URLs
      // (404s, scanners) all share one value.
      const route = req.routeOptions.url ?? OTHER_LABEL;
      this.duration
        .labels(methodLabel(req.method), route, statusClass(reply.statusCode))
        .observe(reply.elapsedTime / 1000);
      done();
    });
  }
}
