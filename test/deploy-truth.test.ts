import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalPlatform, startLocalPlatform } from './support/platform.js';

/**
 * Deploys that tell the truth, on the whole local platform as `npm start` runs it (edge in wrangler
 * dev, functions host, provisioner with the local provider): releases that crash at start, never
 * become ready, cannot be pulled, or become ready late, each deployed by the org's own token while a
 * steady load goes through the edge. Each failure is named, rolled back automatically, and told
 * with events and the failing replicas' log lines; the edge sees no failed request throughout.
 */
let platform: LocalPlatform;
let ports: LocalPlatform['ports'];
let orgToken = '';

beforeAll(async () => {
  // Autoscaling off: the steady load must not scale the app between deploys (its scale operation would
  // make the next deploy a 409); test/autoscale.test.ts covers autoscaling.
  platform = await startLocalPlatform({ PROVISIONER_POLL_MS: '200', PROVISIONER_AUTOSCALE: 'off' });
  ports = platform.ports;
  orgToken = await platform.orgToken();
}, 180_000);

afterAll(async () => {
  await platform?.stop();
}, 60_000);

const api = (path: string) => `http://127.0.0.1:${ports.functions}/provisioner/api/v1/clusters/ttd/apps/demo${path}`;

/** Deploys `body` as ttd's CI would and waits for the operation to end; answers the operation. */
async function deploy(body: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await fetch(api(''), {
    method: 'PUT',
    headers: { authorization: `Bearer ${orgToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ minReplicas: 2, maxReplicas: 6, ...body }),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  const location = `http://127.0.0.1:${ports.functions}${response.headers.get('location')}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const op = (await (await fetch(location, { headers: { authorization: `Bearer ${orgToken}` } })).json()) as Record<
      string,
      any
    >;
    if (op.status === 'Succeeded' || op.status === 'Failed') return op;
    if (Date.now() > deadline) throw new Error(`operation still ${op.status}: ${JSON.stringify(op.conditions)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function appView(): Promise<Record<string, any>> {
  return (await (await fetch(api(''), { headers: { authorization: `Bearer ${orgToken}` } })).json()) as Record<
    string,
    any
  >;
}

/**
 * Two clients calling the demo app through the edge until stopped, every other request a 4 KiB POST to
 * `api/echo` (answered with the bytes it got); every non-200, short echo or network error is kept.
 */
function edgeLoad() {
  let running = true;
  const errors: string[] = [];
  const releases = new Map<string, number>();
  let posts = 0;
  const body = new Uint8Array(4096).fill(7);
  const loops = [0, 1].map(async () => {
    let turn = 0;
    while (running) {
      const post = turn++ % 2 === 1;
      try {
        const response = post
          ? await fetch(`http://127.0.0.1:${ports.edge}/ttd/demo/api/echo`, { method: 'POST', body })
          : await fetch(`http://127.0.0.1:${ports.edge}/ttd/demo/`);
        const text = await response.text();
        if (response.status !== 200) errors.push(`${response.status} ${text.slice(0, 200)}`);
        else if (post) {
          const echoed = (JSON.parse(text) as { bodyBytes?: number }).bodyBytes;
          if (echoed === body.byteLength) posts++;
          else errors.push(`echo got ${echoed} of ${body.byteLength} bytes`);
        } else {
          const release = String((JSON.parse(text) as { release?: string }).release);
          releases.set(release, (releases.get(release) ?? 0) + 1);
        }
      } catch (error) {
        errors.push(String(error));
      }
    }
  });
  return {
    errors,
    releases,
    posts: () => posts,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

type TimelineEvent = {
  at: string;
  source: string;
  reason: string;
  message: string;
  revision?: number;
  replica?: string;
};

/** The provider's events of `revision` in an operation's timeline, with `reason`. */
function providerEvents(op: Record<string, any>, reason: string, revision: number): TimelineEvent[] {
  return (op.events as TimelineEvent[]).filter(
    (e) => e.source === 'provider' && e.reason === reason && e.revision === revision,
  );
}

describe('deploys that tell the truth, under load at the edge', () => {
  it('names each failure, rolls back, records events and logs, and never fails a request at the edge', async () => {
    const load = edgeLoad();
    try {
      // 1. Crashes at start: CrashLoopBackOff, rolled back to release 1, the crash's stderr line kept.
      const crash = await deploy({ image: 'app-runtime:1.1.0', env: { RUNTIME_FAIL_AT_START: '1' } });
      expect(crash.status).toBe('Failed');
      expect(crash.error).toMatchObject({ code: 'CrashLoopBackOff', rolledBackTo: 1 });
      const crashLines = crash.logs.flatMap((r: { lines: { line: string }[] }) => r.lines.map((l) => l.line));
      expect(crashLines).toContain('RUNTIME_FAIL_AT_START is set: exiting before listening');
      const crashReasons = crash.events.map((e: { reason: string }) => e.reason);
      expect(crashReasons).toEqual(
        expect.arrayContaining(['Accepted', 'RollingOut', 'Exited', 'BackOff', 'RollingBack']),
      );
      expect(crash.events.filter((e: { source: string }) => e.source === 'provider').length).toBeGreaterThan(0);
      let view = await appView();
      expect(view.status).toMatchObject({ phase: 'Ready', servingRevision: 1, desiredRevision: 1 });
      expect(view.status.conditions).toContainEqual(
        expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'CrashLoopBackOff' }),
      );
      expect(view.status.rollout).toMatchObject({ revision: 1, complete: true });

      // 2. Never ready: ReadinessFailed at the app's deadline, rolled back.
      const unready = await deploy({
        image: 'app-runtime:1.2.0',
        env: { RUNTIME_READY_AFTER_MS: '600000' },
        progressDeadlineSeconds: 6,
      });
      expect(unready.error).toMatchObject({ code: 'ReadinessFailed', rolledBackTo: 1 });
      expect(unready.logs.length).toBeGreaterThan(0);
      expect(unready.logs[0].lines.map((l: { line: string }) => l.line).join('\n')).toContain('release 3 listening');
      // Its timeline: release 3's replicas started and listened but never were ready; the rollout failed and went back.
      expect(providerEvents(unready, 'Started', 3).length).toBeGreaterThan(0);
      expect(providerEvents(unready, 'Ready', 3)).toEqual([]);
      expect(
        unready.events.some(
          (e: TimelineEvent) => e.reason === 'RolloutFailed' && e.message.includes('ReadinessFailed'),
        ),
      ).toBe(true);
      expect(unready.events.map((e: TimelineEvent) => e.reason)).toEqual(
        expect.arrayContaining(['Accepted', 'RollingOut', 'ReadinessFailed', 'RollingBack']),
      );

      // 3. An image that cannot be pulled: ImagePullFailed at once, nothing half-rolled.
      const missing = await deploy({ image: 'registry.example/nope/missing:1' });
      expect(missing.error).toMatchObject({ code: 'ImagePullFailed', rolledBackTo: 1 });
      view = await appView();
      expect(view.status.rollout).toMatchObject({ revision: 1, complete: true, oldReplicas: 0, readyReplicas: 2 });

      // 4. Ready late but within the deadline: succeeds and serves.
      const late = await deploy({
        image: 'app-runtime:1.3.0',
        env: { RUNTIME_READY_AFTER_MS: '3000' },
        progressDeadlineSeconds: 60,
      });
      expect(late.status).toBe('Succeeded');
      expect(late.error).toBeNull();
      // Late indeed: each replica of release 5 was ready no sooner than 3 s after it was forked (its events say so).
      const created = providerEvents(late, 'Created', 5);
      const ready = providerEvents(late, 'Ready', 5);
      expect(created.length).toBeGreaterThanOrEqual(2);
      for (const replica of new Set(created.map((e) => e.replica))) {
        const forkedAt = Date.parse(created.find((e) => e.replica === replica)?.at ?? '');
        const readyAt = Date.parse(ready.find((e) => e.replica === replica)?.at ?? '');
        expect(readyAt - forkedAt, `replica ${replica}`).toBeGreaterThanOrEqual(3000);
      }
      expect(late.events.map((e: TimelineEvent) => e.reason)).toEqual(
        expect.arrayContaining(['Accepted', 'RollingOut', 'Started', 'Ready', 'RolloutComplete']),
      );
      view = await appView();
      expect(view.status).toMatchObject({ phase: 'Ready', servingRevision: 5, desiredRevision: 5 });
      const events = (await (
        await fetch(api('/events'), { headers: { authorization: `Bearer ${orgToken}` } })
      ).json()) as {
        events: { operationId: string }[];
      };
      expect(new Set(events.events.map((e) => e.operationId)).size).toBeGreaterThanOrEqual(4);
    } finally {
      await load.stop();
    }
    expect(load.errors).toEqual([]);
    expect(load.posts()).toBeGreaterThan(0);
    // Traffic stayed on release 1 through the failures and moved to release 5 at the end.
    expect([...load.releases.keys()].sort()).toEqual(['1', '5']);
  }, 300_000);
});
