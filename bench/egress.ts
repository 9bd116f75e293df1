/**
 * `npm run bench -- egress`: the egress proxy's overhead. The edge Worker runs on `workerd serve`
 * (bundled by `wrangler deploy --dry-run`, no development proxy) and an app calls the loopback
 * upstream through `/_egress/http/127.0.0.1:{port}/...` with its PlatformAccessToken, a header
 * credential injected; measured in the same run against the upstream directly and a bare
 * pass-through Worker on the same workerd, with and without the audit log (a SQLite Durable Object).
 * The loopback upstream is reachable only through EGRESS_DEV_LOOPBACK_PORTS, the development allowance.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  adminCall,
  banner,
  compareRounds,
  type Edge,
  errorsExitCode,
  inWorkDir,
  loadConfig,
  PATH,
  ROOT,
  runWhenMain,
  startBareWorker,
  startEdge,
  startUpstream,
  type Target,
  wranglerSettings,
} from './harness.js';
import { pinning } from './pinning.js';
import type { Baseline, Summary } from './report.js';
import { reportFigures, wrkFigures } from './summary.js';
import { UPSTREAM_BODY } from './upstream.js';
import { bundleEdge } from './workerd.js';
import { hasWrk } from './wrk.js';

const DIRECT: Baseline = { target: 'upstream', label: 'vs target directly' };
const BARE: Baseline = { target: 'bare', label: 'vs bare Worker' };

/** The platform's JWKS, served by the bench itself (fetched once per isolate), and a token for the app. */
async function startPlatformKeys(): Promise<{ server: Server; jwksUrl: string; token: string }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const token = await new SignJWT({
    'urn:altinn:org': 'bench',
    'urn:altinn:app': 'app',
    aud: 'urn:altinn-platform:access-token',
    sub: 'bench/app',
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { server, jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, token };
}

/** The edge with egress to the upstream (a header credential injected), the audit log on or off. */
async function startEgressEdge(
  id: string,
  work: string,
  entry: string,
  upstreamPort: string,
  keys: { jwksUrl: string; token: string },
  audit: boolean,
): Promise<Target> {
  const edge: Edge = await startEdge({
    name: id,
    work,
    entry,
    // local mode: the loopback upstream, the DNS map and the http JWKS are development-only settings (edge/src/mode)
    vars: {
      EGRESS_JWKS_URL: keys.jwksUrl,
      EGRESS_CREDENTIALS_KEY: randomBytes(32).toString('base64'),
      EGRESS_DNS: '{}',
      EGRESS_DEV_LOOPBACK_PORTS: upstreamPort,
    },
    ...(audit
      ? {
          bindings: [{ name: 'EGRESS_AUDIT', durableObjectClass: 'EgressAudit' }],
          durableObjects: ['EgressAudit'],
        }
      : {}),
  });
  await adminCall(edge, 'PUT', '/egress/bench/targets/upstream', {
    scheme: 'http',
    host: '127.0.0.1',
    ports: [Number(upstreamPort)],
    pathPrefixes: ['/bench/'],
  });
  await adminCall(edge, 'PUT', '/egress/bench/targets/upstream/credential', {
    type: 'header',
    name: 'x-api-key',
    value: 'bench-secret',
  });
  return {
    id,
    name: audit ? 'egress via edge (workerd, audit on)' : 'egress via edge (workerd, no audit)',
    url: `${edge.base}/_egress/http/127.0.0.1:${upstreamPort}${PATH}`,
    headers: { PlatformAccessToken: keys.token },
    child: edge.child,
    baselines: [DIRECT, BARE],
  };
}

async function verify(target: Target): Promise<void> {
  const res = await fetch(target.url, { headers: target.headers ?? {}, signal: AbortSignal.timeout(5_000) });
  const body = await res.text();
  if (res.status !== 200 || body !== UPSTREAM_BODY) {
    throw new Error(
      `${target.name} at ${target.url}: status ${res.status}, body ${JSON.stringify(body.slice(0, 300))}`,
    );
  }
  console.log(`  ok  ${target.name}: 200, ${body.length}-byte upstream body`);
}

/**
 * The headline: each egress path's requests/s as a share of calling the same target directly (the
 * overhead the issue asks for) and of the bare Worker, with the added median latency.
 */
function overheadLines(summaries: Summary[], targets: Target[]): string[] {
  const byId = new Map(targets.map((t, i) => [t.id, summaries[i]]));
  const direct = byId.get(DIRECT.target);
  const lines = ['egress overhead (ratios of median requests/s, measured side by side in this run):'];
  for (const t of targets) {
    const s = byId.get(t.id);
    if (s === undefined || direct === undefined || !t.id.startsWith('egress')) continue;
    const ratio = (label: string) => s.ratios.find((r) => r.label === label)?.value.toFixed(2) ?? '?';
    lines.push(
      `  ${s.name}: ${ratio(DIRECT.label)} of calling the target directly, ${ratio(BARE.label)} of the bare Worker; ` +
        `p50 +${(s.p50Ms - direct.p50Ms).toFixed(2)} ms over direct`,
    );
  }
  return lines;
}

/** Runs the egress bench; answers the exit code (0 when every answer was 2xx). */
export async function runEgressBench(): Promise<number> {
  if (!hasWrk()) {
    console.error('wrk is not installed: apt-get update && apt-get install -y wrk');
    return 1;
  }
  const config = loadConfig();
  const keys = await startPlatformKeys();
  try {
    return await inWorkDir('egress-bench', async (work) => {
      banner(
        config,
        work,
        pinning.on
          ? `pinned: workerd on core ${pinning.cores.proxy}, wrk and the upstream on core ${pinning.cores.load}`
          : 'not pinned to cores',
      );
      const upstream = await startUpstream(work);
      const settings = wranglerSettings();
      const bare = await startBareWorker(work, upstream.port, settings.compatibilityDate);
      const entry = await bundleEdge(ROOT, join(work, 'edge-bundle'));
      const targets: Target[] = [
        { ...upstream, baselines: [DIRECT] },
        { ...bare, baselines: [DIRECT] },
        await startEgressEdge('egress', work, entry, upstream.port, keys, true),
        await startEgressEdge('egress-noaudit', work, entry, upstream.port, keys, false),
      ];
      console.log('verify:');
      for (const target of targets) await verify(target);
      const summaries = await compareRounds(targets, config, [DIRECT.label, BARE.label]);
      reportFigures('egress', wrkFigures(summaries));
      console.log(`\n${overheadLines(summaries, targets).join('\n')}`);
      return errorsExitCode(summaries);
    });
  } finally {
    keys.server.close();
  }
}

runWhenMain('egress.ts', runEgressBench);
