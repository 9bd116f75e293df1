import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../platform/src/logging/index.js';
import { scheduleBlobSweep } from './blob-sweep-schedule.js';

const MINUTE = 60_000;

/** A sweep that stays running until `finish` is called. */
function pendingRuns() {
  const finishers: (() => void)[] = [];
  let started = 0;
  return {
    run: () => {
      started += 1;
      return new Promise<void>((resolve) => finishers.push(resolve));
    },
    started: () => started,
    finish: () => finishers.shift()?.(),
  };
}

describe('scheduleBlobSweep', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a sweep once per interval, not at start', async () => {
    let runs = 0;
    const scheduled = scheduleBlobSweep({
      intervalMs: 60 * MINUTE,
      run: async () => {
        runs += 1;
      },
      logger: silentLogger,
    });
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(59 * MINUTE);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(120 * MINUTE);
    expect(runs).toBe(3);
    await scheduled.stop();
    await vi.advanceTimersByTimeAsync(120 * MINUTE);
    expect(runs).toBe(3);
  });

  it('skips a tick while the previous sweep is still running', async () => {
    const runs = pendingRuns();
    const scheduled = scheduleBlobSweep({ intervalMs: MINUTE, run: runs.run, logger: silentLogger });
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    expect(runs.started()).toBe(1);
    runs.finish();
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(runs.started()).toBe(2);
    runs.finish();
    await scheduled.stop();
  });

  it('keeps going after a failed sweep', async () => {
    let runs = 0;
    const scheduled = scheduleBlobSweep({
      intervalMs: MINUTE,
      run: () => {
        runs += 1;
        return Promise.reject(new Error('sweep failed'));
      },
      logger: silentLogger,
    });
    await vi.advanceTimersByTimeAsync(2 * MINUTE);
    expect(runs).toBe(2);
    await scheduled.stop();
  });

  it('waits in stop() for a sweep still running', async () => {
    const runs = pendingRuns();
    const scheduled = scheduleBlobSweep({ intervalMs: MINUTE, run: runs.run, logger: silentLogger });
    await vi.advanceTimersByTimeAsync(MINUTE);
    let stopped = false;
    const stopping = scheduled.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(stopped).toBe(false);
    runs.finish();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('does not keep the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    const scheduled = scheduleBlobSweep({ intervalMs: MINUTE, run: async () => {}, logger: silentLogger });
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
    return scheduled.stop();
  });
});
