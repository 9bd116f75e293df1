import { type Env, intSetting } from '../env';
import { errorResponse, type Problem } from '../problem';
import type { AppTarget } from '../proxy';
import { admit, circuitProblem, type Grant } from './admission';
import { type Caller, type Identified, identifyCaller } from './caller';
import { flushWhenDue } from './flush';
import { type Forward, forwardAndAccount } from './forwarding';
import { metricsRecorder } from './metrics';

export { KEY_HEADER, KEY_QUERY } from './caller';
export { flushMetrics } from './flush';
export type { Forward } from './forwarding';

const DEFAULT_CACHE_TTL_MS = 5_000;

/** What `enforce` needs: the request, where it goes, the Worker's context, and how to forward it. */
export interface EnforceOptions {
  request: Request;
  url: URL;
  target: AppTarget;
  env: Env;
  ctx: ExecutionContext;
  requestId: string;
  forward: Forward;
}

/** The request let through with its grant, or refused with a problem. */
type Checked = { ok: true; grant: Grant } | { ok: false; problem: Problem };

/** Checks the circuits, then admits the request to the caller's plan. */
async function check(o: EnforceOptions, caller: Caller, ttl: number): Promise<Checked> {
  const { org, app } = o.target;
  const open = await circuitProblem(o.env, org, app, caller.label);
  if (open !== null) return { ok: false, problem: open };
  return admit({ request: o.request, env: o.env, org, app, caller, requestId: o.requestId, ttl });
}

/** The problem response of a refused (or failed) request, counted in metrics. */
function refused(o: EnforceOptions, err: unknown, label: string, started: number): Response {
  const { org, app } = o.target;
  const res = errorResponse(err, o.url.pathname, o.requestId);
  res.headers.set('x-request-id', o.requestId);
  metricsRecorder.answered(org, app, label, res.status, Date.now() - started, 0, 0);
  flushWhenDue(o.env, o.ctx);
  return res;
}

/**
 * Holds a request for `/{org}/{app}/...` to its caller's plan, then forwards it: identifies the
 * caller (subscription key, else client IP per app), checks the app's circuit, asks its limiter
 * once for rate, quota and a concurrency slot together, and records metrics. The slot is released
 * when the response body has been sent or the client has gone. Never throws: refusals and
 * failures come back as problem responses.
 */
export async function enforce(o: EnforceOptions): Promise<Response> {
  const started = Date.now();
  const ttl = intSetting(o.env.SLA_CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS);
  // A store or binding failing before the request is admitted is answered with a 500 without internals.
  let identified: Identified;
  try {
    identified = await identifyCaller(o.request, o.url, o.env, ttl, o.target);
  } catch (err) {
    return refused(o, err, 'anonymous', started);
  }
  if (!identified.ok) return refused(o, identified.problem, identified.label, started);
  const { caller } = identified;
  let checked: Checked;
  try {
    checked = await check(o, caller, ttl);
  } catch (err) {
    return refused(o, err, caller.label, started);
  }
  if (!checked.ok) return refused(o, checked.problem, caller.label, started);
  return forwardAndAccount({
    request: caller.request,
    url: o.url,
    env: o.env,
    ctx: o.ctx,
    requestId: o.requestId,
    org: o.target.org,
    app: o.target.app,
    label: caller.label,
    grant: checked.grant,
    started,
    forward: o.forward,
  });
}
