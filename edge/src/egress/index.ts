import { type Context, Hono } from 'hono';
import { type EdgeEnv, type Env, intSetting } from '../env';
import { edgeLog } from '../log';
import { modeCheck, refusedDetail } from '../mode';
import { APP_KEY_HEADER, verifyAppKey } from './app-keys';
import { type AuditEntry, UNAUTHENTICATED_LOG, UNKNOWN_APP } from './audit';
import { ACCESS_TOKEN_HEADER, type AppIdentity, AppTokenError, verifyAppToken } from './identity';
import { limitContext } from './limits';
import { type BodyEnd, callTarget, outboundHeaders } from './proxy';
import { EgressRefusal, refusalResponse } from './refusal';
import { egressSettings } from './settings';
import { PolicyStore } from './store';
import { firstDestination } from './target';

/**
 * The egress proxy for apps, mounted at `/_egress`: `ANY /_egress/{http|https}/{host}[:{port}]/{path}`
 * with the app's `PlatformAccessToken` (header, or `Authorization: Bearer`). Every call, allowed or
 * not, is written to the org's audit log once its response body has been sent; calls that prove no
 * app identity (401, or a failure before the app is known) to the log named UNAUTHENTICATED_LOG.
 */
export const egress = new Hono<EdgeEnv>();

function tokenOf(headers: Headers): string | null {
  const header = headers.get(ACCESS_TOKEN_HEADER);
  if (header !== null && header.trim() !== '') return header.trim();
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(headers.get('authorization') ?? '');
  return match?.[1] ?? null;
}

async function authenticate(headers: Headers, env: Env): Promise<AppIdentity> {
  const token = tokenOf(headers);
  const challenge = { 'www-authenticate': 'Bearer realm="egress"' };
  const appKey = headers.get(APP_KEY_HEADER);
  if (token === null && appKey !== null) {
    const identity = await verifyAppKey(env.ROUTES, appKey);
    if (identity === null) {
      throw new EgressRefusal(
        401,
        'unauthenticated',
        'Unauthorized',
        'The egress key is unknown or revoked.',
        challenge,
      );
    }
    return identity;
  }
  if (token === null) {
    throw new EgressRefusal(
      401,
      'unauthenticated',
      'Unauthorized',
      'Send the app token as the PlatformAccessToken header, or an egress key as X-Egress-Key.',
      challenge,
    );
  }
  const jwksUrl = env.EGRESS_JWKS_URL;
  if (!jwksUrl) {
    throw new EgressRefusal(
      503,
      'not-configured',
      'Egress not configured',
      'Set EGRESS_JWKS_URL to verify app tokens.',
    );
  }
  try {
    return await verifyAppToken(token, {
      jwksUrl,
      ...(env.EGRESS_TOKEN_ISSUER ? { issuer: env.EGRESS_TOKEN_ISSUER } : {}),
    });
  } catch (error) {
    if (!(error instanceof AppTokenError)) throw error;
    throw new EgressRefusal(401, 'unauthenticated', 'Unauthorized', `App token refused: ${error.message}.`, challenge);
  }
}

/** How long the first call of a batch waits for others to end before the batch is written. */
const AUDIT_BATCH_MS = 5;
/** Calls ended in this isolate and not yet written, by org. */
const pendingAudit = new Map<string, AuditEntry[]>();

/**
 * Queues a call for its org's audit log. The call that finds no batch waiting becomes the batch's
 * writer: it waits AUDIT_BATCH_MS, takes every call queued by then and writes them in one RPC, inside
 * its own waitUntil (each request does its own I/O; the others' entries ride along, as an SLA slot
 * release rides along with the next admission). One RPC and one transaction per batch, not per call.
 */
async function queueAudit(audit: NonNullable<Env['EGRESS_AUDIT']>, entry: AuditEntry): Promise<void> {
  const waiting = pendingAudit.get(entry.org);
  if (waiting !== undefined) {
    waiting.push(entry);
    return;
  }
  pendingAudit.set(entry.org, [entry]);
  await new Promise((resolve) => setTimeout(resolve, AUDIT_BATCH_MS));
  const batch = pendingAudit.get(entry.org) ?? [];
  pendingAudit.delete(entry.org);
  await audit.get(audit.idFromName(entry.org)).recordMany(batch);
}

function record(
  env: Env,
  ctx: { waitUntil(promise: Promise<unknown>): void },
  entry: AuditEntry,
  ended: Promise<BodyEnd>,
): void {
  const audit = env.EGRESS_AUDIT;
  const write = ended.then(async ({ bytes, cut }) => {
    const done: AuditEntry = { ...entry, bytes, durationMs: Date.now() - entry.at };
    // a body cut at the size limit: the head went out as the target's, the call still failed
    if (cut !== null) Object.assign(done, { decision: 'failed', reason: cut });
    edgeLog.info('egress', { ...done });
    if (audit !== undefined) await queueAudit(audit, done);
  });
  ctx.waitUntil(write.catch((err: unknown) => edgeLog.error('egress audit failed', { error: String(err) })));
}

/** The body end of a refusal: nothing of a target's sent (a new promise per request, none shared). */
const nothingSent = (): Promise<BodyEnd> => Promise.resolve({ bytes: 0, cut: null });

/** Whether a refusal is a decision of policy (denied) rather than a failure to carry out the call. */
function decisionOf(status: number): AuditEntry['decision'] {
  return status === 401 || status === 403 || status === 429 ? 'denied' : 'failed';
}

/** The body to send on (null for GET and HEAD); 413 past `maxBytes`, declared or read. */
async function requestBody(c: Context<EdgeEnv>, maxBytes: number): Promise<ArrayBuffer | null> {
  const declared = Number(c.req.header('content-length') ?? '0');
  if (declared > maxBytes) {
    throw new EgressRefusal(413, 'request-too-large', 'Request too large', `At most ${maxBytes} bytes.`);
  }
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? null : await c.req.arrayBuffer();
  if (body !== null && body.byteLength > maxBytes) {
    throw new EgressRefusal(413, 'request-too-large', 'Request too large', `At most ${maxBytes} bytes.`);
  }
  return body;
}

egress.all('/*', async (c) => {
  const startedAt = Date.now();
  const requestId = c.get('requestId');
  const url = new URL(c.req.url);
  let identity: AppIdentity | null = null;
  let auditedUrl = '';
  const entryOf = (
    fields: Pick<AuditEntry, 'target' | 'status' | 'decision' | 'reason' | 'redirects'>,
  ): AuditEntry => ({
    at: startedAt,
    requestId,
    // a call that proves no app identity goes to the log of unauthenticated calls, org and app unknown
    org: identity?.org ?? UNAUTHENTICATED_LOG,
    app: identity?.app ?? UNKNOWN_APP,
    method: c.req.method,
    url: auditedUrl || url.pathname.slice(0, 512),
    bytes: 0,
    durationMs: 0,
    ...fields,
  });
  try {
    const refused = modeCheck(c.env).egress;
    if (refused.length > 0) {
      throw new EgressRefusal(503, 'not-configured', 'Egress unavailable', refusedDetail('Egress', refused));
    }
    const settings = egressSettings(c.env);
    identity = await authenticate(c.req.raw.headers, c.env);
    const dest = firstDestination(url);
    auditedUrl = `${dest.scheme}://${dest.hostname}:${dest.port}${dest.url.pathname}`;
    const body = await requestBody(c, settings.maxRequestBytes);
    const policy = await new PolicyStore(c.env.ROUTES, intSetting(c.env.EGRESS_POLICY_CACHE_TTL_MS, 5000)).cachedGet(
      identity.org,
    );
    const outcome = await callTarget(dest, {
      identity,
      method: c.req.method,
      headers: outboundHeaders(c.req.raw.headers),
      body,
      targets: policy.targets,
      settings,
      limits: limitContext(c.env, c.executionCtx),
      requestId,
    });
    const entry = entryOf({
      target: outcome.target,
      status: outcome.response.status,
      decision: 'allowed',
      reason: null,
      redirects: outcome.redirects,
    });
    record(c.env, c.executionCtx, entry, outcome.ended);
    outcome.response.headers.set('x-request-id', requestId);
    return outcome.response;
  } catch (error) {
    if (!(error instanceof EgressRefusal)) {
      // answered by the edge's error handler (500, request id, detail logged); audited as failed
      const name = error instanceof Error ? error.name : typeof error;
      const entry = entryOf({
        target: null,
        status: 500,
        decision: 'failed',
        reason: `internal: ${name}`,
        redirects: 0,
      });
      record(c.env, c.executionCtx, entry, nothingSent());
      throw error;
    }
    const entry = entryOf({
      target: error.target,
      status: error.status,
      decision: decisionOf(error.status),
      reason: `${error.reason}: ${error.detail}`.slice(0, 512),
      redirects: 0,
    });
    record(c.env, c.executionCtx, entry, nothingSent());
    return refusalResponse(error, url.pathname, requestId);
  }
});
