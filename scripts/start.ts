/**
 * `npm start`: the whole local platform on embedded defaults. Starts the functions host (platform APIs and the
 * provisioner with its `local` provider; blobs as fsynced files in the data folder, or in Azurite, started too, for a
 * data folder that already holds Azurite's blobs or with BLOB_STORE=azurite) and the edge (`wrangler dev`,
 * offline); then provisions the demo org's cluster and app through the provisioner's HTTP API (the
 * provisioner registers their routes at the edge), prints the URLs to try, and on Ctrl-C (SIGINT)
 * or SIGTERM stops every child process group it started (the app replicas end with the host).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { azuriteConnectionString } from '../platform/src/config/index.js';
import { loadLauncherConfig, localBlobStoreOf } from './config.js';
import { provisionDemo } from './demo.js';
import { freePort, killChildrenNow, type Supervised, startChild, stopChildren, waitForHttp } from './processes.js';

const config = (() => {
  try {
    return loadLauncherConfig(process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
})();
const bin = (name: string): string => resolve('node_modules/.bin', name);
const children: Supervised[] = [];
let stopping = false;

/**
 * Stops everything once. A signal that arrives while stopping (a terminal's Ctrl-C reaches npm,
 * tsx and this process alike, and tsx relays it again) does not cut the stop short.
 */
async function shutdown(code: number, why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\nStopping the local platform (${why})...\n`);
  await stopChildren(children);
  process.stdout.write('Stopped.\n');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
process.on('SIGHUP', () => void shutdown(0, 'SIGHUP'));
process.on('uncaughtException', (err) => void shutdown(1, `unexpected error: ${err.stack ?? err.message}`));
process.on('unhandledRejection', (err) => void shutdown(1, `unexpected error: ${String(err)}`));
// Whatever way this process ends, no child group outlives it.
process.on('exit', () => killChildrenNow(children));

/** Starts and supervises a child; refuses once stopping, so nothing starts after the stop took its list. */
function launch(...args: Parameters<typeof startChild>): Supervised {
  if (stopping) throw new Error('the local platform is stopping');
  const child = startChild(...args);
  children.push(child);
  void child.exited.then(({ code, signal }) => {
    if (!stopping) void shutdown(1, `${child.name} exited unexpectedly (code ${code}, signal ${signal})`);
  });
  return child;
}

async function main(): Promise<void> {
  const dataDir = resolve(config.dataDir);
  const blobStore = localBlobStoreOf(dataDir, config.blobStore);
  if (blobStore === 'azurite') mkdirSync(resolve(dataDir, 'azurite'), { recursive: true });
  const adminToken = config.edgeAdminToken ?? randomBytes(24).toString('base64url');
  const provisionerToken = config.provisionerAdminToken ?? randomBytes(24).toString('base64url');
  const edgeUrl = `http://127.0.0.1:${config.edgePort}`;
  const functionsUrl = `http://127.0.0.1:${config.functionsPort}`;
  // Secrets reach wrangler through a file only this user can read, not its command line.
  const edgeEnvFile = resolve(dataDir, 'edge.env');
  writeFileSync(
    edgeEnvFile,
    [
      // local mode: development-only settings such as EGRESS_DEV_LOOPBACK_PORTS are allowed (edge/src/mode)
      'PLATFORM_MODE=local',
      `EDGE_ADMIN_TOKEN=${adminToken}`,
      `EGRESS_CREDENTIALS_KEY=${randomBytes(32).toString('base64')}`,
      `EGRESS_JWKS_URL=${functionsUrl}/authentication/api/v1/openid/.well-known/openid-configuration/jwks`,
      // SLA: callers with a verified platform token are limited per org or user (edge/src/sla/token.ts)
      `PLATFORM_JWKS=${functionsUrl}/authentication/api/v1/openid/.well-known/openid-configuration/jwks`,
      // Development only, off unless set: egress may reach 127.0.0.1 on these ports (edge/src/egress/README.md)
      ...(config.egressDevLoopbackPorts ? [`EGRESS_DEV_LOOPBACK_PORTS=${config.egressDevLoopbackPorts}`] : []),
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  chmodSync(edgeEnvFile, 0o600);
  const inspectorPort = await freePort();
  const blobEndpoint = `http://127.0.0.1:${config.azuritePort}/devstoreaccount1`;
  const blobConnectionString = azuriteConnectionString(config.azuritePort);

  const azurite =
    blobStore === 'azurite'
      ? launch(
          'azurite',
          bin('azurite-blob'),
          [
            '--silent',
            '--location',
            resolve(dataDir, 'azurite'),
            '--blobHost',
            '127.0.0.1',
            '--blobPort',
            String(config.azuritePort),
            '--skipApiVersionCheck',
            '--disableTelemetry',
            '--loose',
          ],
          { quiet: !config.verbose },
        )
      : undefined;
  const functions = launch('functions', bin('tsx'), ['functions/src/server.ts'], {
    env: {
      PLATFORM_MODE: 'local',
      PORT: String(config.functionsPort),
      DATA_DIR: dataDir,
      ...(azurite ? { BLOB_CONNECTION_STRING: blobConnectionString } : { BLOB_PATH: resolve(dataDir, 'blobs') }),
      PROVISIONER_ADMIN_TOKEN: provisionerToken,
      EDGE_ADMIN_URL: edgeUrl,
      EDGE_ADMIN_TOKEN: adminToken,
      PLATFORM_URL: functionsUrl,
    },
  });
  const edge = launch(
    'edge',
    bin('wrangler'),
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(config.edgePort),
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      resolve(dataDir, 'wrangler'),
      '--env-file',
      edgeEnvFile,
      '--show-interactive-dev-session=false',
    ],
    {
      env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: 'true' },
      quiet: !config.verbose,
    },
  );
  if (azurite) await waitForHttp(`${blobEndpoint}?comp=list`, azurite);
  await Promise.all([
    waitForHttp(`${functionsUrl}/ready`, functions, { ready: (s) => s === 200 }),
    waitForHttp(`${edgeUrl}/_edge/health`, edge, { ready: (s) => s === 200, timeoutMs: 120_000 }),
  ]);

  process.stdout.write(`Provisioning ${config.demoOrg}/${config.demoApp} through the provisioner...\n`);
  const demo = await provisionDemo({
    functionsUrl,
    provisionerAdminToken: provisionerToken,
    org: config.demoOrg,
    orgNumber: config.demoOrgNumber,
    app: config.demoApp,
    image: 'app-runtime:1.0.0',
  });

  const demoUrl = `http://localhost:${config.edgePort}/${config.demoOrg}/${config.demoApp}/`;
  const rows: [string, string][] = [
    ['Demo app through the edge', demoUrl],
    ['Edge (wrangler dev)', `${edgeUrl}   admin API: ${edgeUrl}/_edge/routes`],
    ['Edge admin token', adminToken],
    ['Functions host', `${functionsUrl}   (/health, /ready, /openapi.json)`],
    ['Provisioner', `${functionsUrl}/provisioner/api/v1/clusters`],
    ['Provisioner admin token', provisionerToken],
    ['Operator dashboard', `${functionsUrl}/provisioner/dashboard   (enter the provisioner admin token)`],
    [`${config.demoOrg} cluster ingress (local)`, demo.clusterIngress],
    azurite ? ['Azurite (blob)', blobEndpoint] : ['Blobs (fsynced files)', resolve(dataDir, 'blobs')],
    ['Data folder', dataDir],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  process.stdout.write(
    [
      '',
      'Local platform is ready.',
      ...rows.map(([label, value]) => `  ${label.padEnd(width)}${value}`),
      '',
      `Try:  curl -i ${demoUrl}`,
      `      curl -H "Authorization: Bearer ${adminToken}" ${edgeUrl}/_edge/routes`,
      `      curl -H "Authorization: Bearer ${provisionerToken}" ${functionsUrl}/provisioner/api/v1/clusters/${config.demoOrg}/apps/${config.demoApp}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((err) => void shutdown(1, err instanceof Error ? err.message : String(err)));
