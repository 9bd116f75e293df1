import { type Env, intSetting } from '../env';
import type { BreakerConfig, CircuitView } from './breaker';

// The isolate's side of the circuit breakers (breaker.ts holds the state).

/** The breaker thresholds from the environment (Envoy's defaults). */
export function breakerConfig(env: Env): BreakerConfig {
  return {
    consecutiveFailures: intSetting(env.BREAKER_FAILURES, 5),
    baseOpenMs: intSetting(env.BREAKER_OPEN_MS, 30_000),
    maxOpenMs: 300_000,
    probeTimeoutMs: intSetting(env.UPSTREAM_TIMEOUT_MS, 30_000) + 1_000,
  };
}

/** The circuit of an org's cluster: its name, and its thresholds (the failures must span 2 apps). */
export function clusterCircuit(org: string): string {
  return `cluster:${org}`;
}

function configFor(env: Env, upstream: string): BreakerConfig {
  const config = breakerConfig(env);
  return upstream.startsWith('cluster:') ? { ...config, minSources: 2 } : config;
}

/** What this isolate last heard from each upstream's circuit; closed and clean ones cost no RPC. */
const circuits = new Map<string, { view: CircuitView; trustUntil: number }>();

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

/** Tells the circuit about a failure (from `source`), or about a success when this isolate knows of trouble. */
export async function reportCircuit(env: Env, upstream: string, ok: boolean, source?: string): Promise<void> {
  if (env.SLA_BREAKER === undefined) return;
  const known = circuits.get(upstream);
  if (ok && (known === undefined || (known.view.state === 'closed' && known.view.failures === 0))) return;
  try {
    remember(env, upstream, await env.SLA_BREAKER.getByName(upstream).record(ok, configFor(env, upstream), source));
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
