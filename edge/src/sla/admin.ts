import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env';
import { edgeLog } from '../log';
import { notFound } from '../problem';
import { fieldErrors, invalid, parseBody } from '../request/validation';
import { flushMetrics } from '.';
import { prometheusText } from './metrics';
import { type Consumer, consumerBody, type Plan, planBody, publicConsumer, slaId } from './schema';
import { hashKey, newSubscriptionKey, policyCache, SlaStore } from './store';
import { consumerUsage } from './usage';

function log(msg: string, fields: Record<string, unknown>): void {
  edgeLog.info(msg, fields);
}

function requireId(field: string, value: string): string {
  if (!slaId.safeParse(value).success) {
    invalid('Invalid name', [
      { field, detail: 'must be a DNS-1123 label: a-z, 0-9 and inner "-", at most 63 characters' },
    ]);
  }
  return value;
}

async function parse<S extends z.ZodType>(c: Context<EdgeEnv>, schema: S, title: string): Promise<z.output<S>> {
  const json = await parseBody(c, z.unknown());
  const result = schema.safeParse(json);
  if (!result.success) invalid(title, fieldErrors(result.error));
  return result.data;
}

/** Rate windows of one plan must differ in length (each length is one sliding log). */
function checkWindows(body: z.output<typeof planBody>): void {
  const scopes: [string, { rate?: { windowSeconds: number }[] | undefined }][] = [
    ['rate', body],
    ...Object.entries(body.apps ?? {}).map(([k, v]): [string, typeof v] => [`apps.${k}.rate`, v]),
  ];
  for (const [field, scope] of scopes) {
    const lengths = (scope.rate ?? []).map((r) => r.windowSeconds);
    if (new Set(lengths).size !== lengths.length) {
      invalid('Invalid plan', [{ field, detail: 'two limits have the same windowSeconds' }]);
    }
  }
}

/** Admin API of SLA plans, mounted at `/_edge/plans`. */
export const plansAdmin = new Hono<EdgeEnv>();

plansAdmin.get('/', async (c) => {
  const store = new SlaStore(c.env.ROUTES);
  const ids = await store.list('plan/');
  const plans = await Promise.all(ids.map((id) => store.getPlan(id)));
  return c.json({ plans: plans.filter((p) => p !== null) });
});

plansAdmin.get('/:plan', async (c) => {
  const id = requireId('plan', c.req.param('plan'));
  const plan = await new SlaStore(c.env.ROUTES).getPlan(id);
  if (plan === null) throw notFound(`No plan ${id}.`);
  return c.json(plan);
});

plansAdmin.put('/:plan', async (c) => {
  const id = requireId('plan', c.req.param('plan'));
  const body = await parse(c, planBody, 'Invalid plan');
  checkWindows(body);
  const store = new SlaStore(c.env.ROUTES);
  const existed = (await store.getPlan(id)) !== null;
  const plan: Plan = { ...body, id, updatedAt: new Date().toISOString() };
  await store.putPlan(plan);
  policyCache.clear();
  log('plan changed', { action: existed ? 'update' : 'create', plan: id });
  if (!existed) c.header('location', `/_edge/plans/${id}`);
  return c.json(plan, existed ? 200 : 201);
});

plansAdmin.delete('/:plan', async (c) => {
  const id = requireId('plan', c.req.param('plan'));
  const store = new SlaStore(c.env.ROUTES);
  if ((await store.getPlan(id)) === null) throw notFound(`No plan ${id}.`);
  await store.deletePlan(id);
  policyCache.clear();
  log('plan changed', { action: 'delete', plan: id });
  return c.body(null, 204);
});

/** Admin API of consumers and their subscription keys, mounted at `/_edge/consumers`. */
export const consumersAdmin = new Hono<EdgeEnv>();

consumersAdmin.get('/', async (c) => {
  const store = new SlaStore(c.env.ROUTES);
  const ids = await store.list('consumer/');
  const consumers = await Promise.all(ids.map((id) => store.getConsumer(id)));
  return c.json({ consumers: consumers.filter((x) => x !== null).map(publicConsumer) });
});

/** How much of its quota the consumer has used this period (usage.ts). */
consumersAdmin.get('/:consumer/usage', consumerUsage);

consumersAdmin.get('/:consumer', async (c) => {
  const id = requireId('consumer', c.req.param('consumer'));
  const consumer = await new SlaStore(c.env.ROUTES).getConsumer(id);
  if (consumer === null) throw notFound(`No consumer ${id}.`);
  return c.json(publicConsumer(consumer));
});

/** Creates (201, with both keys shown this once) or updates (200, keys unchanged and not shown) a consumer. */
consumersAdmin.put('/:consumer', async (c) => {
  const id = requireId('consumer', c.req.param('consumer'));
  const body = await parse(c, consumerBody, 'Invalid consumer');
  const store = new SlaStore(c.env.ROUTES);
  const existing = await store.getConsumer(id);
  const now = new Date().toISOString();
  const fields = {
    ...(body.plan === undefined ? {} : { plan: body.plan }),
    ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
    disabled: body.disabled ?? false,
  };
  if (existing !== null) {
    const consumer: Consumer = {
      id,
      ...fields,
      keyHashes: existing.keyHashes,
      createdAt: existing.createdAt,
      updatedAt: now,
    };
    await store.putConsumer(consumer);
    policyCache.clear();
    log('consumer changed', { action: 'update', consumer: id, plan: consumer.plan });
    return c.json(publicConsumer(consumer), 200);
  }
  const keys = { primary: newSubscriptionKey(), secondary: newSubscriptionKey() };
  const keyHashes = { primary: await hashKey(keys.primary), secondary: await hashKey(keys.secondary) };
  const consumer: Consumer = { id, ...fields, keyHashes, createdAt: now, updatedAt: now };
  await store.putConsumer(consumer);
  policyCache.clear();
  log('consumer changed', { action: 'create', consumer: id, plan: consumer.plan });
  c.header('location', `/_edge/consumers/${id}`);
  c.header('cache-control', 'no-store');
  return c.json({ ...publicConsumer(consumer), keys }, 201);
});

/** Replaces one of the two keys (rotate one while clients use the other); the new key is shown once. */
consumersAdmin.post('/:consumer/keys/:which/regenerate', async (c) => {
  const id = requireId('consumer', c.req.param('consumer'));
  const which = c.req.param('which');
  if (which !== 'primary' && which !== 'secondary') {
    invalid('Invalid key name', [{ field: 'which', detail: 'must be primary or secondary' }]);
  }
  const store = new SlaStore(c.env.ROUTES);
  const consumer = await store.getConsumer(id);
  if (consumer === null) throw notFound(`No consumer ${id}.`);
  const key = newSubscriptionKey();
  const old = consumer.keyHashes[which];
  consumer.keyHashes = { ...consumer.keyHashes, [which]: await hashKey(key) };
  consumer.updatedAt = new Date().toISOString();
  await store.putConsumer(consumer, [old]);
  policyCache.clear();
  log('consumer key regenerated', { consumer: id, which });
  c.header('cache-control', 'no-store');
  return c.json({ consumer: id, which, key });
});

consumersAdmin.delete('/:consumer', async (c) => {
  const id = requireId('consumer', c.req.param('consumer'));
  const store = new SlaStore(c.env.ROUTES);
  const consumer = await store.getConsumer(id);
  if (consumer === null) throw notFound(`No consumer ${id}.`);
  await store.deleteConsumer(consumer);
  policyCache.clear();
  log('consumer changed', { action: 'delete', consumer: id });
  return c.body(null, 204);
});

/**
 * Usage metrics at `/_edge/metrics`: JSON, or Prometheus text with `?format=prometheus` or
 * `Accept: text/plain`. `?org=` narrows to one org. This isolate's pending counts are sent first.
 */
export const metricsAdmin = new Hono<EdgeEnv>();

metricsAdmin.get('/', async (c) => {
  const metrics = c.env.SLA_METRICS;
  if (metrics === undefined) throw notFound('No metrics on this edge (no SLA_METRICS binding).');
  await flushMetrics(c.env);
  const org = c.req.query('org');
  const report = await metrics.getByName('edge').report(org);
  const accept = c.req.header('accept') ?? '';
  if (c.req.query('format') === 'prometheus' || (accept.includes('text/plain') && !accept.includes('json'))) {
    return c.body(prometheusText(report), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  }
  return c.json(report);
});
