import type { Context } from 'hono';
import type { EdgeEnv } from '../env';
import { notFound } from '../problem';
import { invalid } from '../request/validation';
import { periodOf } from './limiter';
import { effectiveLimits } from './policy';
import { limiterStub } from './reservations';
import { slaId } from './schema';
import { SlaStore } from './store';

const APP = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$/;

/** One counted dimension of a quota: used in the current period, and the limit. */
interface Counted {
  used: number;
  limit: number;
}

/**
 * `GET /_edge/consumers/{consumer}/usage[?app=org/app]`: how much of its quota a consumer has used in
 * the current period, read from its limiter objects (summed over the plan's shards), under its plan
 * or, with `app`, under that app's override. `quota` is null when the plan sets none.
 */
export async function consumerUsage(c: Context<EdgeEnv>): Promise<Response> {
  const id = c.req.param('consumer') ?? '';
  if (!slaId.safeParse(id).success) {
    invalid('Invalid name', [{ field: 'consumer', detail: 'must be a DNS-1123 label' }]);
  }
  const appParam = c.req.query('app');
  const app = appParam === undefined ? null : APP.exec(appParam);
  if (app === null && appParam !== undefined) {
    invalid('Invalid query', [{ field: 'app', detail: 'must be org/app, each a DNS-1123 label' }]);
  }
  const limiter = c.env.SLA_LIMITER;
  if (limiter === undefined) {
    throw notFound('No limiters on this edge.');
  }
  const store = new SlaStore(c.env.ROUTES);
  const consumer = await store.getConsumer(id);
  if (consumer === null) {
    throw notFound(`No consumer ${id}.`);
  }
  const defaultPlan = c.env.SLA_DEFAULT_PLAN ?? 'default';
  const plan =
    (consumer.plan === undefined ? null : await store.getPlan(consumer.plan)) ?? (await store.getPlan(defaultPlan));
  const scope = app === null ? null : { org: app[1] as string, app: app[2] as string };
  const effective = plan !== null && scope !== null ? effectiveLimits(plan, scope.org, scope.app) : null;
  const overridden = effective?.overridden ?? false;
  const quota = effective === null ? plan?.quota : effective.limits.quota;
  const base = { consumer: id, plan: plan?.id ?? null, ...(scope ? { app: `${scope.org}/${scope.app}` } : {}) };
  if (plan === null || quota === undefined) return c.json({ ...base, quota: null });
  const key = `c:${id}${overridden && scope ? `@${scope.org}/${scope.app}` : ''}`;
  const shards = plan.shards ?? 1;
  const used = await Promise.all(
    Array.from({ length: shards }, (_, shard) => limiterStub(limiter, `${key}#${shard}`).quotaUsed(quota.period)),
  );
  const period = periodOf(quota.period, Date.now());
  const sum = (field: 'calls' | 'bytes') => used.reduce((total, u) => total + u[field], 0);
  const counted = (field: 'calls' | 'bytes'): Counted | undefined =>
    quota[field] === undefined ? undefined : { used: sum(field), limit: quota[field] };
  c.header('cache-control', 'no-store');
  return c.json({
    ...base,
    quota: {
      period: quota.period,
      periodName: period.name,
      resetsAt: new Date(period.endsAt).toISOString(),
      ...(counted('calls') ? { calls: counted('calls') } : {}),
      ...(counted('bytes') ? { bytes: counted('bytes') } : {}),
    },
  });
}
