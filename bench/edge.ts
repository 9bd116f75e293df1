/**
 * `npm run bench -- edge`: the edge Worker on `workerd serve`, measured side by side in one run against
 * the upstream directly, a bare pass-through Worker on the same workerd, and nginx (see README.md).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { answering, freePort, waitForHttp } from '../scripts/processes.js';
import {
  adminCall,
  banner,
  compareRounds,
  errorsExitCode,
  inWorkDir,
  loadConfig,
  PATH,
  ROOT,
  startBareWorker,
  startEdge,
  startUpstream,
  type Target,
  wranglerSettings,
} from './harness.js';
import { findNginx, startNginx } from './nginx.js';
import { pinning } from './pinning.js';
import type { Baseline } from './report.js';
import { reportFigures, wrkFigures } from './summary.js';
import { UPSTREAM_BODY } from './upstream.js';
import { bundleEdge } from './workerd.js';
import { hasWrk } from './wrk.js';

export { loadConfig };

/**
 * Installs wrk and nginx from Debian when running as root on a machine with apt-get, so that
 * `npm run bench` works on a fresh machine; otherwise leaves it to the message below.
 */
function installLoadTools(): void {
  if (process.getuid?.() !== 0) return;
  console.log('wrk is missing: installing wrk and nginx-light from Debian (apt-get)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'wrk', 'nginx-light'], { stdio: 'inherit', env });
  } catch (err) {
    console.error(`apt-get failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const DIRECT: Baseline = { target: 'upstream', label: 'vs direct' };
const BARE: Baseline = { target: 'bare', label: 'vs bare Worker', goal: 0.8 };

async function expectUpstreamBody(target: Target, viaEntry?: string): Promise<void> {
  const res = await fetch(target.url, { signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  const via = res.headers.get('via');
  const problems = [
    res.status === 200 ? '' : `status ${res.status}`,
    body === UPSTREAM_BODY ? '' : `body ${JSON.stringify(body.slice(0, 200))}`,
    viaEntry === undefined || (via ?? '').includes(viaEntry) ? '' : `via ${JSON.stringify(via)}`,
  ].filter((p) => p !== '');
  if (problems.length > 0) {
    throw new Error(`${target.name} at ${target.url} did not pass the upstream through: ${problems.join(', ')}`);
  }
  console.log(`  ok  ${target.name}: 200, ${body.length}-byte upstream body${viaEntry ? `, via: ${via}` : ''}`);
}

/** The edge with the route `bench` to the upstream, registered through its admin API. */
async function startEdgeTarget(work: string, upstreamPort: string): Promise<Target> {
  const settings = wranglerSettings();
  const entry = await bundleEdge(ROOT, join(work, 'edge-bundle'));
  const edge = await startEdge({ name: 'edge', work, entry });
  await adminCall(edge, 'PUT', '/routes/bench', { clusterBase: `http://127.0.0.1:${upstreamPort}` });
  console.log(
    `  edge: compatibility_date ${settings.compatibilityDate}, flags [${settings.compatibilityFlags.join(', ')}], ` +
      `route bench -> 127.0.0.1:${upstreamPort} registered through the admin API`,
  );
  return {
    id: 'edge',
    name: 'edge Worker (workerd)',
    url: `${edge.base}${PATH}`,
    child: edge.child,
    baselines: [DIRECT, BARE],
  };
}

/** Runs the edge bench; answers the exit code (0 when every answer was 2xx). */
export async function runEdgeBench(): Promise<number> {
  if (!hasWrk()) installLoadTools();
  if (!hasWrk()) {
    console.error('wrk is not installed. Install it (and nginx for the reference proxy) with:');
    console.error('  apt-get update && apt-get install -y wrk nginx-light');
    return 1;
  }
  const config = loadConfig();
  return inWorkDir('edge-bench', async (work) => {
    banner(
      config,
      work,
      pinning.on
        ? `pinned: proxies (workerd, nginx) on core ${pinning.cores.proxy}, wrk and the upstream on core ${pinning.cores.load} (BENCH_PIN=0 to turn off)`
        : 'not pinned to cores (BENCH_PIN=0, one core, or no taskset)',
    );
    const upstream = await startUpstream(work);
    const settings = wranglerSettings();
    const targets: Target[] = [{ ...upstream, baselines: [DIRECT] }];
    const nginx = findNginx();
    if (nginx === undefined) {
      console.log('  note: nginx not installed, skipping the reference proxy (apt-get install -y nginx-light)');
    } else {
      const port = await freePort();
      const child = startNginx(nginx, port, Number(upstream.port), join(work, 'nginx'), work);
      const url = `http://127.0.0.1:${port}${PATH}`;
      await waitForHttp(url, child, { timeoutMs: 15_000, ready: answering });
      targets.push({ id: 'nginx', name: 'nginx pass-through (keepalive)', url, child, baselines: [DIRECT] });
    }
    const bare = await startBareWorker(work, upstream.port, settings.compatibilityDate);
    targets.push({ ...bare, baselines: [DIRECT] });
    targets.push(await startEdgeTarget(work, upstream.port));

    console.log('verify:');
    for (const target of targets) {
      await expectUpstreamBody(
        target,
        target.id === 'edge' ? `1.1 ${settings.vars.EDGE_NAME ?? 'altinn-edge'}` : undefined,
      );
    }
    const summaries = await compareRounds(targets, config, [DIRECT.label, BARE.label]);
    reportFigures('edge', wrkFigures(summaries));
    return errorsExitCode(summaries);
  });
}
