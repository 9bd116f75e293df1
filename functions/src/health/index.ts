import { createRoute, z } from '@hono/zod-openapi';
import { createApi, type PlatformApp } from '../../../platform/src/api/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';

/** One dependency /ready verifies, e.g. the database or the blob store. */
export interface ReadinessCheck {
  /** Name reported in the answer, e.g. `database`. */
  name: string;
  /** Resolves when the dependency answers; rejects (with detail for the log) when it does not. */
  check(): Promise<void>;
}

/** What the health API needs. */
export interface HealthApiOptions {
  logger: Logger;
  checks: readonly ReadinessCheck[];
  /** More root routes, e.g. localtest's pages in local mode. */
  routes?: (app: PlatformApp) => void;
}

const CheckResults = z.record(z.string(), z.enum(['ok', 'failed'])).openapi('CheckResults');

const alive = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Liveness: the process answers HTTP',
  responses: {
    200: {
      description: 'Alive',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const ready = createRoute({
  method: 'get',
  path: '/ready',
  summary: 'Readiness: the database and the blob store answer',
  responses: {
    200: {
      description: 'Every dependency answers',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok'), checks: CheckResults }) } },
    },
    503: {
      description: 'At least one dependency does not answer; `checks` names which',
      content: {
        'application/problem+json': {
          schema: z.object({
            type: z.string(),
            title: z.string(),
            status: z.number(),
            detail: z.string(),
            checks: CheckResults,
          }),
        },
      },
    },
  },
});

/** The platform's own health API at the root: `/health` (alive), `/ready` (dependencies) and `/openapi.json`. */
export function createHealthApi(options: HealthApiOptions): PlatformApp {
  const app = createApi({ prefix: '', title: 'Platform health', version: '1.0.0', logger: options.logger });

  app.openapi(alive, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(ready, async (c) => {
    const outcomes = await Promise.allSettled(options.checks.map((check) => check.check()));
    const checks: Record<string, 'ok' | 'failed'> = {};
    const failed: string[] = [];
    outcomes.forEach((outcome, index) => {
      const name = options.checks[index]?.name ?? `check${index}`;
      checks[name] = outcome.status === 'fulfilled' ? 'ok' : 'failed';
      if (outcome.status === 'rejected') {
        failed.push(name);
        c.var.logger.warn('readiness check failed', { check: name, error: outcome.reason });
      }
    });
    if (failed.length > 0) {
      throw new Problem(503, {
        kind: 'not-ready',
        title: 'Not ready',
        detail: `Failing readiness checks: ${failed.join(', ')}.`,
        extensions: { checks },
        headers: { 'Retry-After': '5' },
      });
    }
    return c.json({ status: 'ok' as const, checks }, 200);
  });

  options.routes?.(app);
  return app;
}
