import { Hono } from 'hono';
import type { EdgeEnv } from '../env';
import { edgeLog } from '../log';
import { notFound, Problem } from '../problem';
import { invalid, parseBody, requireDnsLabels } from '../request/validation';
import { issueAppKey, revokeAppKey } from './app-keys';
import { UNAUTHENTICATED_LOG } from './audit';
import { credentialBody, describe, forgetToken } from './credentials';
import { defaultPort, targetBody } from './rules';
import { currentKeyId, SealingKeyError, seal } from './sealing';
import { egressSettings } from './settings';
import { PolicyStore, type StoredTarget, targetView } from './store';

/**
 * Admin API of egress, mounted at `/_edge/egress` behind the admin token:
 *   GET    /{org}/targets                       the org's targets (credentials described, never shown)
 *   GET    /{org}/targets/{target}
 *   PUT    /{org}/targets/{target}              create or replace the rule (a credential is kept)
 *   DELETE /{org}/targets/{target}              remove the rule and its credential
 *   PUT    /{org}/targets/{target}/credential   set or rotate the credential (write-only)
 *   DELETE /{org}/targets/{target}/credential
 *   GET    /{org}/audit?app=&target=&decision=&since=&until=&limit=
 *   GET    /_unauthenticated/audit?...          calls that proved no app identity (401s, early failures)
 *   POST   /{org}/apps/{app}/keys                issue an egress key (the simpler app credential), shown once
 *   DELETE /{org}/apps/{app}/keys/{keyId}        revoke it
 */
export const egressAdmin = new Hono<EdgeEnv>();

function log(action: string, fields: Record<string, unknown>): void {
  edgeLog.info('egress policy changed', { action, ...fields });
}

egressAdmin.get('/:org/targets', async (c) => {
  const org = c.req.param('org');
  requireDnsLabels({ org });
  const policy = await new PolicyStore(c.env.ROUTES).get(org);
  return c.json({ org, targets: policy.targets.map(targetView) });
});

egressAdmin.get('/:org/targets/:target', async (c) => {
  const { org, target } = c.req.param();
  requireDnsLabels({ org, target });
  const found = (await new PolicyStore(c.env.ROUTES).get(org)).targets.find((t) => t.name === target);
  if (found === undefined) throw notFound(`No egress target ${target} for ${org}.`);
  return c.json(targetView(found));
});

egressAdmin.put('/:org/targets/:target', async (c) => {
  const { org, target } = c.req.param();
  requireDnsLabels({ org, target });
  const body = await parseBody(c, targetBody);
  const store = new PolicyStore(c.env.ROUTES);
  const policy = await store.get(org);
  const existing = policy.targets.find((t) => t.name === target);
  if (existing?.credential !== undefined && body.host.includes('*')) {
    invalid('Invalid target', [{ field: 'host', detail: 'a target with a credential needs an exact host' }]);
  }
  const stored: StoredTarget = {
    ...body,
    name: target,
    ports: body.ports ?? [defaultPort(body.scheme)],
    updatedAt: new Date().toISOString(),
    ...(existing?.credential === undefined ? {} : { credential: existing.credential }),
  };
  await store.put({ org, targets: [...policy.targets.filter((t) => t.name !== target), stored] });
  log(existing ? 'update' : 'create', { org, target, host: stored.host });
  if (!existing) c.header('location', `/_edge/egress/${org}/targets/${target}`);
  return c.json(targetView(stored), existing ? 200 : 201);
});

egressAdmin.delete('/:org/targets/:target', async (c) => {
  const { org, target } = c.req.param();
  requireDnsLabels({ org, target });
  const store = new PolicyStore(c.env.ROUTES);
  const policy = await store.get(org);
  if (!policy.targets.some((t) => t.name === target)) throw notFound(`No egress target ${target} for ${org}.`);
  await store.put({ org, targets: policy.targets.filter((t) => t.name !== target) });
  forgetToken(`${org}/${target}`);
  log('delete', { org, target });
  return c.body(null, 204);
});

egressAdmin.put('/:org/targets/:target/credential', async (c) => {
  const { org, target } = c.req.param();
  requireDnsLabels({ org, target });
  const credential = await parseBody(c, credentialBody);
  const store = new PolicyStore(c.env.ROUTES);
  const policy = await store.get(org);
  const existing = policy.targets.find((t) => t.name === target);
  if (existing === undefined) throw notFound(`No egress target ${target} for ${org}; create it first.`);
  if (existing.host.includes('*')) {
    invalid('Invalid credential', [{ field: 'host', detail: 'a credential needs a target with an exact host' }]);
  }
  const keys = egressSettings(c.env).keys;
  let sealed: Awaited<ReturnType<typeof seal>>;
  let keyId: string;
  try {
    sealed = await seal(keys, `${org}/${target}`, JSON.stringify(credential));
    keyId = await currentKeyId(keys);
  } catch (error) {
    if (!(error instanceof SealingKeyError)) throw error;
    throw new Problem({
      status: 503,
      kind: 'admin-not-configured',
      title: 'Credentials key not configured',
      detail: error.message,
    });
  }
  const version = (existing.credential?.info.version ?? 0) + 1;
  const info = describe(credential, version, keyId, new Date().toISOString());
  const updated: StoredTarget = { ...existing, credential: { sealed, info } };
  await store.put({ org, targets: policy.targets.map((t) => (t.name === target ? updated : t)) });
  forgetToken(`${org}/${target}`);
  log(version === 1 ? 'credential set' : 'credential rotated', { org, target, type: info.type, version });
  return c.json(info, version === 1 ? 201 : 200);
});

egressAdmin.delete('/:org/targets/:target/credential', async (c) => {
  const { org, target } = c.req.param();
  requireDnsLabels({ org, target });
  const store = new PolicyStore(c.env.ROUTES);
  const policy = await store.get(org);
  const existing = policy.targets.find((t) => t.name === target);
  if (existing?.credential === undefined) throw notFound(`No credential for egress target ${target} of ${org}.`);
  const { credential: _gone, ...rest } = existing;
  await store.put({ org, targets: policy.targets.map((t) => (t.name === target ? rest : t)) });
  forgetToken(`${org}/${target}`);
  log('credential deleted', { org, target });
  return c.body(null, 204);
});

egressAdmin.post('/:org/apps/:app/keys', async (c) => {
  const { org, app } = c.req.param();
  requireDnsLabels({ org, app });
  const { record, key } = await issueAppKey(c.env.ROUTES, { org, app });
  log('app key issued', { org, app, keyId: record.keyId });
  c.header('location', `/_edge/egress/${org}/apps/${app}/keys/${record.keyId}`);
  c.header('cache-control', 'no-store');
  const { sha256: _digest, ...shown } = record;
  return c.json({ ...shown, key }, 201);
});

egressAdmin.delete('/:org/apps/:app/keys/:keyId', async (c) => {
  const { org, app, keyId } = c.req.param();
  requireDnsLabels({ org, app });
  if (!(await revokeAppKey(c.env.ROUTES, { org, app }, keyId)))
    throw notFound(`No egress key ${keyId} for ${org}/${app}.`);
  log('app key revoked', { org, app, keyId });
  return c.body(null, 204);
});

function optionalTime(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms))
    invalid('Invalid query', [{ field, detail: 'must be an ISO 8601 time or epoch milliseconds' }]);
  return ms;
}

egressAdmin.get('/:org/audit', async (c) => {
  const org = c.req.param('org');
  if (org !== UNAUTHENTICATED_LOG) requireDnsLabels({ org });
  const q = c.req.query();
  const limit = Number(q.limit ?? '100');
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    invalid('Invalid query', [{ field: 'limit', detail: 'must be an integer from 1 to 1000' }]);
  }
  if (q.decision !== undefined && !['allowed', 'denied', 'failed'].includes(q.decision)) {
    invalid('Invalid query', [{ field: 'decision', detail: 'must be allowed, denied or failed' }]);
  }
  const since = optionalTime('since', q.since);
  const until = optionalTime('until', q.until);
  const audit = c.env.EGRESS_AUDIT;
  if (audit === undefined) {
    throw new Problem({
      status: 503,
      kind: 'admin-not-configured',
      title: 'Audit log not configured',
      detail: 'No EGRESS_AUDIT binding.',
    });
  }
  const calls = await audit.get(audit.idFromName(org)).query({
    limit,
    ...(q.app === undefined ? {} : { app: q.app }),
    ...(q.target === undefined ? {} : { target: q.target }),
    ...(q.decision === undefined ? {} : { decision: q.decision }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  });
  return c.json({ org, calls });
});
