import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/processes.js';
import { type LocalPlatform, startLocalPlatform } from './support/platform.js';

/** Pids of every live descendant of `root` (read from /proc). */
function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const [child, parent] of parentOf) {
      if (parent === pid) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let platform: LocalPlatform;
let ports: LocalPlatform['ports'];

beforeAll(async () => {
  // `npm start` exactly as a newcomer runs it: default settings but free ports, generated admin tokens.
  platform = await startLocalPlatform({}, { generatedTokens: true });
  ports = platform.ports;
}, 180_000);

afterAll(async () => {
  await platform?.stop();
}, 60_000);

describe('npm start', () => {
  it('prints the URLs to try', () => {
    expect(platform.output()).toContain(`http://localhost:${ports.edge}/ttd/demo/`);
    expect(platform.output()).toContain(`http://127.0.0.1:${ports.functions}`);
  });

  it('answers the demo app through the edge, with Via and X-Forwarded-For set by the edge', async () => {
    const res = await fetch(`http://localhost:${ports.edge}/ttd/demo/`, {
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('via')).toBe('1.1 altinn-edge');
    const body = (await res.json()) as { app: string; receivedFromEdge: Record<string, string | null> };
    expect(body.app).toBe('ttd/demo');
    expect(body.receivedFromEdge.via).toBe('1.1 altinn-edge');
    expect(body.receivedFromEdge.xForwardedFor).toBe('127.0.0.1');
  });

  it('provisioned the demo cluster and app through the provisioner, two replicas serving behind the edge', async () => {
    const token = /Provisioner admin token\s+(\S+)/.exec(platform.output())?.[1];
    expect(token).toBeDefined();
    const app = await fetch(`http://127.0.0.1:${ports.functions}/provisioner/api/v1/clusters/ttd/apps/demo`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(app.status).toBe(200);
    const view = (await app.json()) as { status: Record<string, any> };
    expect(view.status).toMatchObject({ phase: 'Ready', servingRevision: 1 });
    expect(view.status.rollout).toMatchObject({ complete: true, readyReplicas: 2 });
    const operations = (await (
      await fetch(`http://127.0.0.1:${ports.functions}/provisioner/api/v1/clusters/ttd/apps/demo/operations`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { operations: { kind: string; status: string; createdBy: string }[] };
    // The app was deployed by the org's own token, not the operator's.
    expect(operations.operations.at(-1)).toMatchObject({
      kind: 'app.deploy',
      status: 'Succeeded',
      createdBy: 'org:ttd',
    });
  });

  it('serves the functions host with a ready database and blob store', async () => {
    const res = await fetch(`http://127.0.0.1:${ports.functions}/ready`);
    expect(res.status).toBe(200);
  });

  it('stops every child process on Ctrl-C (SIGINT to the job), leaving no orphans and no open ports', async () => {
    const pid = platform.pid;
    const tree = descendants(pid);
    // npm, tsx, the launcher, azurite, the functions host, wrangler and workerd at least.
    expect(tree.length).toBeGreaterThanOrEqual(6);
    process.kill(-pid, 'SIGINT');
    const ended = await Promise.race([platform.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))]);
    // npm re-raises the SIGINT it got (as a shell job would end); the launcher under it exits 0.
    expect([
      { code: 0, signal: null },
      { code: null, signal: 'SIGINT' },
    ]).toContainEqual(ended);
    const deadline = Date.now() + 15_000;
    while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(tree.filter(alive)).toEqual([]);
    expect(platform.output()).toContain('Stopped.');
    for (const port of Object.values(ports)) expect(await portOpen(port), `port ${port}`).toBe(false);
  }, 60_000);
});

describe('npm start when a part cannot start', () => {
  it('stops the children it already started and exits 1 when the functions port is taken', async () => {
    const blocker = createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'start-fail-'));
    const child = spawn('npm', ['start', '--silent'], {
      env: {
        ...process.env,
        EDGE_PORT: String(await freePort()),
        FUNCTIONS_PORT: String(taken),
        AZURITE_PORT: String(await freePort()),
        DATA_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let text = '';
    child.stdout?.on('data', (c: Buffer) => {
      text += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const seen = new Set<number>();
    const watcher = setInterval(() => {
      for (const pid of descendants(child.pid!)) seen.add(pid);
    }, 50);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearInterval(watcher);
    blocker.close();
    try {
      expect(code).toBe(1);
      expect(text).toContain('EADDRINUSE');
      // azurite, the functions host and wrangler had been started before the functions host failed.
      expect(seen.size).toBeGreaterThanOrEqual(4);
      const deadline = Date.now() + 15_000;
      while ([...seen].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect([...seen].filter(alive)).toEqual([]);
    } finally {
      for (const pid of seen) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
