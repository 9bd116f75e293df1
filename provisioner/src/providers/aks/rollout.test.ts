import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CRASH_LOOP_RESTARTS, podFailure } from './rollout.js';

/** A pod of the new ReplicaSet with one container status, shaped as the kubelet writes it. */
const pod = (phase: string, status: Partial<V1ContainerStatus>): V1Pod => ({
  metadata: { name: 'forms-7d9c6b5f4-x2x9q' },
  status: {
    phase,
    containerStatuses: [
      {
        name: 'forms',
        image: 'altinncr.azurecr.io/ttd/forms:2.0.0',
        imageID: '',
        ready: false,
        restartCount: 0,
        ...status,
      },
    ],
  },
});

describe('podFailure', () => {
  it('names ImagePullFailed at once for ErrImagePull, ImagePullBackOff and InvalidImageName', () => {
    for (const reason of ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']) {
      const failure = podFailure([pod('Pending', { state: { waiting: { reason, message: 'not found' } } })], false);
      expect(failure).toEqual({
        reason: 'ImagePullFailed',
        message: `pod forms-7d9c6b5f4-x2x9q cannot pull image altinncr.azurecr.io/ttd/forms:2.0.0: ${reason}: not found`,
      });
    }
  });

  it('names CrashLoopBackOff only after repeated crashes without readiness, with the last exit', () => {
    const crashing = (restartCount: number) =>
      pod('Running', {
        restartCount,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
      });
    expect(podFailure([crashing(CRASH_LOOP_RESTARTS - 1)], false)).toBeUndefined();
    expect(podFailure([crashing(CRASH_LOOP_RESTARTS)], false)).toEqual({
      reason: 'CrashLoopBackOff',
      message: `container forms of pod forms-7d9c6b5f4-x2x9q crashed ${CRASH_LOOP_RESTARTS} times without becoming ready; last exit code 137 (OOMKilled)`,
    });
    const terminated = pod('Running', {
      restartCount: CRASH_LOOP_RESTARTS,
      state: { terminated: { exitCode: 1, reason: 'Error' } },
    });
    expect(podFailure([terminated], false)?.reason).toBe('CrashLoopBackOff');
  });

  it('names ReadinessFailed for a running, unready container only once the deadline has passed', () => {
    const unready = pod('Running', { started: true, state: { running: { startedAt: new Date() } } });
    expect(podFailure([unready], false)).toBeUndefined();
    expect(podFailure([unready], true)?.reason).toBe('ReadinessFailed');
  });

  it('prefers the image pull over a crash in another pod, and finds nothing in healthy or starting pods', () => {
    const crash = pod('Running', { restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } });
    const pull = pod('Pending', { state: { waiting: { reason: 'ImagePullBackOff' } } });
    expect(podFailure([crash, pull], true)?.reason).toBe('ImagePullFailed');
    const creating = pod('Pending', { state: { waiting: { reason: 'ContainerCreating' } } });
    const ready = pod('Running', { ready: true, state: { running: {} } });
    expect(podFailure([creating, ready], false)).toBeUndefined();
  });
});
