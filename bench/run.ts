/**
 * `npm run bench`: every benchmark in turn (see README.md); `npm run bench -- edge`, `-- storage` or
 * `-- authorization` (or BENCH_ONLY=...) runs one. Children and temp folders are removed on exit, errors and Ctrl-C.
 */

import { resolve } from 'node:path';
import { killChildrenNow, stopChildren } from '../scripts/processes.js';
import { runAuthorizationBench } from './authorization.js';
import { runEdgeBench } from './edge.js';
import { runEgressBench } from './egress.js';
import { runKubeBench } from './kube.js';
import { removeTempDirs } from './pinning.js';
import { runProvisionerBench } from './provisioner.js';
import { runSlaBench } from './sla.js';
import { runStorageBench } from './storage.js';
import { printSummary } from './summary.js';

const BENCHES: Record<string, () => Promise<number>> = {
  edge: runEdgeBench,
  storage: runStorageBench,
  authorization: runAuthorizationBench,
  egress: runEgressBench,
  kube: runKubeBench,
  provisioner: runProvisionerBench,
  sla: runSlaBench,
};

/** The benches named on the command line or in BENCH_ONLY (comma-separated), all of them when none is. */
export function selectedBenches(args: string[], only: string | undefined): string[] {
  const named = [...args, ...(only ?? '').split(',')].map((name) => name.trim()).filter((name) => name !== '');
  const unknown = named.filter((name) => !(name in BENCHES));
  if (unknown.length > 0) {
    throw new Error(`unknown bench ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  }
  return named.length > 0 ? [...new Set(named)] : Object.keys(BENCHES);
}

async function main(): Promise<number> {
  let code = 0;
  for (const name of selectedBenches(process.argv.slice(2), process.env.BENCH_ONLY)) {
    console.log(`\n=== bench: ${name} ===`);
    const run = BENCHES[name];
    const result =
      run === undefined
        ? 1
        : await run().catch((err: unknown) => {
            console.error(err instanceof Error ? (err.stack ?? err.message) : err);
            return 1;
          });
    await stopChildren();
    removeTempDirs();
    if (result !== 0) console.error(`bench ${name} failed (exit code ${result})`);
    code ||= result;
  }
  printSummary(resolve('bench/results/summary.md'));
  return code;
}

process.on('exit', () => {
  killChildrenNow();
  removeTempDirs();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the bench's processes`);
    void stopChildren().finally(() => {
      removeTempDirs();
      process.exit(130);
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
