/**
 * `npm run bench -- provisioner`: the local provider at scale, through the provisioner's HTTP API on a
 * functions host in this process (PGlite in a temp folder). Measures one app from PUT to ready, then
 * BENCH_APPS apps (100) across BENCH_ORGS orgs (10) from their PUTs to all ready (one replica each, real
 * processes of the reference runtime), and the reconciler's CPU per idle cycle (a pass plus a drift check
 * over every app) against the host's CPU while idle (probes of every replica).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFunctionsHost } from '../functions/src/server.js';
import { loadConfig } from '../platform/src/config/index.js';
import { provisionerOf } from '../provisioner/src/host.js';
import { freePort } from '../scripts/processes.js';
import { positiveInt } from './settings.js';
import { reportFigures } from './summary.js';

const ORGS = positiveInt('BENCH_ORGS', 10);
const APPS = positiveInt('BENCH_APPS', 100);
const IDLE_CYCLES = positiveInt('BENCH_IDLE_CYCLES', 20);

type Json = Record<string, unknown>;

/** Runs the provisioner bench; answers the exit code. */
export async function runProvisionerBench(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-provisioner-'));
  const admin = randomBytes(24).toString('base64url');
  process.env.PROVISIONER_ADMIN_TOKEN = admin;
  process.env.PROVISIONER_RECONCILE_INTERVAL_MS = '200';
  const port = await freePort();
  const host = await startFunctionsHost({
    config: loadConfig({
      PLATFORM_MODE: 'local',
      DATA_DIR: dir,
      FUNCTIONS_PORT: String(port),
      LOG_LEVEL: 'warn',
      SEED_TEST_DATA: 'false',
    }),
  });
  const base = `${host.url}/provisioner/api/v1`;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  };
  const settled = async (ids: string[]): Promise<void> => {
    const pending = new Set(ids);
    while (pending.size > 0) {
      for (const id of [...pending]) {
        const { body } = await call('GET', `/operations/${id}`);
        if (body.status === 'Succeeded') pending.delete(id);
        else if (body.status === 'Failed') throw new Error(`operation ${id} failed: ${JSON.stringify(body.error)}`);
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const put = async (path: string, body: unknown): Promise<string> => {
    const { status, body: answer } = await call('PUT', path, body);
    if (status !== 202) throw new Error(`PUT ${path}: ${status} ${JSON.stringify(answer)}`);
    return String(answer.id);
  };
  const app = { image: 'app-runtime:1.0.0', minReplicas: 1, maxReplicas: 1 };
  try {
    const orgs = Array.from({ length: ORGS }, (_, i) => `org${i + 1}`);
    const clustersStarted = performance.now();
    await settled(await Promise.all(orgs.map((org) => put(`/clusters/${org}`, {}))));
    const clustersMs = performance.now() - clustersStarted;

    const oneStarted = performance.now();
    await settled([await put('/clusters/org1/apps/solo', app)]);
    const oneMs = performance.now() - oneStarted;

    const names = Array.from({ length: APPS }, (_, i) => [orgs[i % ORGS] as string, `app${i + 1}`] as const);
    const manyStarted = performance.now();
    const putMs: number[] = [];
    const ids = await Promise.all(
      names.map(async ([org, name]) => {
        const sent = performance.now();
        const id = await put(`/clusters/${org}/apps/${name}`, app);
        putMs.push(performance.now() - sent);
        return id;
      }),
    );
    putMs.sort((a, b) => a - b);
    const putP50 = putMs[Math.floor(putMs.length / 2)] ?? 0;
    const putMax = putMs.at(-1) ?? 0;
    const acceptedMs = performance.now() - manyStarted;
    await settled(ids);
    const manyMs = performance.now() - manyStarted;

    const { reconciler } = await provisionerOf(host.platform);
    await reconciler.stop();
    const idleCpu = process.cpuUsage();
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const idle = process.cpuUsage(idleCpu);
    const idleWallMs = performance.now() - idleStarted;
    const cycleCpu = process.cpuUsage();
    const cycleStarted = performance.now();
    for (let i = 0; i < IDLE_CYCLES; i++) {
      await reconciler.pass();
      await reconciler.checkDrift();
    }
    const cycles = process.cpuUsage(cycleCpu);
    const cycleWallMs = performance.now() - cycleStarted;
    const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
    const backgroundPerMs = cpuMs(idle) / idleWallMs;
    const cycleCpuMs = (cpuMs(cycles) - backgroundPerMs * cycleWallMs) / IDLE_CYCLES;

    console.log(`clusters: ${ORGS} orgs from PUT to ready in ${(clustersMs / 1000).toFixed(2)} s`);
    console.log(`one app (1 replica) from PUT to ready: ${(oneMs / 1000).toFixed(2)} s`);
    console.log(
      `${APPS} apps across ${ORGS} orgs from PUT to all ready: ${(manyMs / 1000).toFixed(2)} s ` +
        `(all PUTs answered 202 in ${(acceptedMs / 1000).toFixed(2)} s: p50 ${putP50.toFixed(0)} ms, max ${putMax.toFixed(0)} ms; ` +
        `${(manyMs / APPS).toFixed(0)} ms per app)`,
    );
    console.log(
      `ratio ${APPS} apps / one app: ${(manyMs / oneMs).toFixed(1)} (a serial provisioner would be ${APPS}.0)`,
    );
    console.log(
      `reconciler idle cycle (pass + drift check of ${APPS + 1} apps): ${cycleCpuMs.toFixed(2)} ms CPU; ` +
        `host background while idle (probing ${APPS + 1} replicas): ${(backgroundPerMs * 100).toFixed(1)} % of a core`,
    );
    console.log('\n| measure | value |\n|---|---|');
    console.log(`| ${ORGS} clusters PUT to ready | ${(clustersMs / 1000).toFixed(2)} s |`);
    console.log(`| 1 app PUT to ready | ${(oneMs / 1000).toFixed(2)} s |`);
    console.log(`| ${APPS} apps / ${ORGS} orgs PUT to all ready | ${(manyMs / 1000).toFixed(2)} s |`);
    console.log(`| PUT answered (202), p50 / max | ${putP50.toFixed(0)} / ${putMax.toFixed(0)} ms |`);
    console.log(`| ratio ${APPS} apps / 1 app | ${(manyMs / oneMs).toFixed(1)} |`);
    console.log(`| reconciler CPU per idle cycle | ${cycleCpuMs.toFixed(2)} ms |`);
    console.log(`| host CPU idle, ${APPS + 1} replicas probed | ${(backgroundPerMs * 100).toFixed(1)} % of a core |`);
    reportFigures('provisioner', [
      { name: `${ORGS} clusters, PUT to ready (local)`, value: `${(clustersMs / 1000).toFixed(2)} s` },
      { name: '1 app (1 replica), PUT to ready: a cold start of a replica', value: `${(oneMs / 1000).toFixed(2)} s` },
      {
        name: `${APPS} apps across ${ORGS} orgs, PUT to all ready`,
        value: `${(manyMs / 1000).toFixed(2)} s (PUT p50 ${putP50.toFixed(0)} ms, max ${putMax.toFixed(0)} ms)`,
        ratio: `${(manyMs / oneMs).toFixed(1)} of 1 app (serial: ${APPS})`,
      },
      { name: 'reconciler CPU per idle cycle', value: `${cycleCpuMs.toFixed(2)} ms` },
    ]);
    return 0;
  } finally {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
