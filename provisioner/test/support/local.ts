import { LocalProvider } from '../../src/providers/local/index.js';
import type { AppDesired, AppRelease } from '../../src/providers/types.js';

/** A LocalProvider with fast probes for tests; its apps call `platformUrl` (nothing listens by default). */
export function testProvider(platformUrl = 'http://127.0.0.1:9', progressDeadlineMs = 60_000): LocalProvider {
  return new LocalProvider({
    platformUrl,
    progressDeadlineMs,
    accessTokenFor: async (org, app) => `token-of-${org}-${app}`,
    timings: { probePeriodMs: 100, probeTimeoutMs: 2000, failureThreshold: 3, terminationGraceMs: 5000 },
  });
}

/** A release of the reference runtime. */
export function release(revision: number, env: Record<string, string> = {}, image = `app-runtime:${revision}.0.0`) {
  const value: AppRelease = {
    revision,
    image,
    version: `${revision}.0.0`,
    port: 5005,
    env,
    config: { revision },
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
  };
  return value;
}

/** What to apply: `release` on `replicas` replicas. */
export function desired(rel: AppRelease, replicas: number, rollback = false): AppDesired {
  return { release: rel, scale: { minReplicas: 0, maxReplicas: 5, replicas }, rollback };
}

/** Polls `check` until it returns a truthy value (generous timeout: machines here are shared). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether a process id is still alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Steady loopback load on `url` (an app's base URL ending in `/`) from `workers` concurrent clients, counting every
 * answer that is not 200. With `posts`, every other request is a POST of 4 KiB to `api/echo`.
 */
export function steadyLoad(url: string, workers = 2, options: { posts?: boolean } = {}) {
  let running = true;
  const stats = {
    ok: 0,
    failed: 0,
    posts: 0,
    failures: [] as string[],
    releases: [] as string[],
    startedAt: Date.now(),
  };
  const body = new Uint8Array(4096).fill(1);
  const worker = async () => {
    let turn = 0;
    while (running) {
      const post = options.posts === true && turn++ % 2 === 1;
      try {
        const res = post ? await fetch(`${url}api/echo`, { method: 'POST', body }) : await fetch(url);
        const answer = (await res.json()) as { release?: string; bodyBytes?: number };
        if (res.status === 200 && (!post || answer.bodyBytes === body.byteLength)) {
          stats.ok++;
          if (post) stats.posts++;
          else stats.releases.push(answer.release ?? '?');
        } else {
          stats.failed++;
          stats.failures.push(`${res.status} ${JSON.stringify(answer)}`);
        }
      } catch (error) {
        stats.failed++;
        stats.failures.push(String((error as Error).cause ?? error));
      }
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return {
    stats,
    /** Stops the load and returns the counts and requests per second. */
    async stop() {
      running = false;
      await all;
      return { ...stats, perSecond: Math.round((stats.ok + stats.failed) / ((Date.now() - stats.startedAt) / 1000)) };
    },
  };
}
