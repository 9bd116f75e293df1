import { type Env, intSetting } from '../env';
import { parseIpv6 } from '../net/address';
import type { AppErrorRule } from '../routing/schema';
import type { BreakerConfig, CircuitView, Outcome } from './breaker';

// The isolate's side of the circuit breakers (breaker.ts holds the state).

/** The breaker thresholds from the environment (Envoy's defaults, plus the distinct clients a circuit needs). */
export function breakerConfig(env: Env): BreakerConfig {
  return {
    consecutiveFailures: intSetting(env.BREAKER_FAILURES, 5),
    baseOpenMs: intSetting(env.BREAKER_OPEN_MS, 30_000),
    maxOpenMs: 300_000,
    probeTimeoutMs: intSetting(env.UPSTREAM_TIMEOUT_MS, 30_000) + 1_000,
    minClients: intSetting(env.BREAKER_MIN_CLIENTS, 3),
  };
}

/** The circuit of an org's cluster: its name, and its thresholds (the failures must span 2 apps). */
export function clusterCircuit(org: string): string {
  return `cluster:${org}`;
}

function configFor(env: Env, upstream: string, appErrors?: AppErrorRule): BreakerConfig {
  const config = breakerConfig(env);
  if (upstream.startsWith('cluster:')) return { ...config, minSources: 2 };
  return appErrors === undefined ? config : { ...config, appErrors };
}

/**
 * Who a client is for the breaker: its address as Cloudflare saw it (`CF-Connecting-IP`), an IPv6
 * client by its /64 (one subscriber's network), so one client's failures count once however often it calls.
 */
export function breakerClient(headers: Headers): string {
  const ip = headers.get('cf-connecting-ip');
  if (ip === null || ip === '') return 'unknown';
  if (!ip.includes(':')) return ip;
  const groups = parseIpv6(ip);
  return groups === null
    ? ip
    : `${groups
        .slice(0, 4)
        .map((g) => g.toString(16))
        .join(':')}::/64`;
}

/** What this isolate last heard from each upstream's circuit; closed and clean ones cost no RPC. */
const circuits = new Map<string, { view: CircuitView; trustUntil: number }>();

/** Requests this isolate sent to each app since its last report: the volume of the app-error ratio. */
const volume = new Map<string, { since: number; requests: number }>();
const MAX_VOLUME_ENTRIES = 10_000;

/** Counts a request to `upstream` (no RPC); a count older than `intervalMs` (the longest interval) starts over. */
export function countRequest(upstream: string, intervalMs = 300_000): void {
  const now = Date.now();
  const entry = volume.get(upstream);
  if (entry === undefined || now - entry.since >= intervalMs) {
    if (entry === undefined && volume.size >= MAX_VOLUME_ENTRIES) volume.clear();
    volume.set(upstream, { since: now, requests: 1 });
  } else {
    entry.requests += 1;
  }
}

function takeVolume(upstream: string): number {
  const entry = volume.get(upstream);
  volume.delete(upstream);
  return entry?.requests ?? 1;
}

/** The circuit's answer for this request, or null when this isolate knows it closed and clean (no RPC). */
export async function checkCircuit(env: Env, upstream: string): Promise<CircuitView | null> {
  if (env.SLA_BREAKER === undefined) return null;
  const known = circuits.get(upstream);
  if (known === undefined || (known.view.state === 'closed' && known.view.failures === 0)) return null;
  if (!known.view.allowed && Date.now() < known.trustUntil) return known.view;
  try {
    const view = await env.SLA_BREAKER.getByName(upstream).admit(configFor(env, upstream));
    remember(env, upstream, view);
    return view;
  } catch {
    return null; // a breaker that cannot be reached never blocks traffic
  }
}

/**
 * Tells the circuit about an outcome: every counted failure, an app's 5xx only when the app opted in
 * (`appErrors`), and a success only when this isolate knows of trouble. Each report carries the
 * requests sent since the last one, so the ratio sees the volume without an RPC per request.
 */
export async function reportCircuit(
  env: Env,
  upstream: string,
  outcome: Outcome,
  appErrors?: AppErrorRule,
): Promise<void> {
  if (env.SLA_BREAKER === undefined) return;
  if (outcome.kind === 'app' && appErrors === undefined) outcome = { ...outcome, kind: 'ok' };
  const known = circuits.get(upstream);
  if (outcome.kind === 'ok' && (known === undefined || (known.view.state === 'closed' && known.view.failures === 0)))
    return;
  try {
    const report = { ...outcome, requests: takeVolume(upstream) };
    remember(
      env,
      upstream,
      await env.SLA_BREAKER.getByName(upstream).record(report, configFor(env, upstream, appErrors)),
    );
  } catch {
    // the next failure reports again
  }
}

function remember(env: Env, upstream: string, view: CircuitView): void {
  if (view.state === 'closed' && view.failures === 0) {
    circuits.delete(upstream);
    return;
  }
  const cacheMs = Number(env.BREAKER_CACHE_MS ?? 1_000);
  const trust = Math.min((view.retryAfterSeconds ?? 0) * 1000, Number.isFinite(cacheMs) ? cacheMs : 1_000);
  circuits.set(upstream, { view, trustUntil: Date.now() + trust });
}
