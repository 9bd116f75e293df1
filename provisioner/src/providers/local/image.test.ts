import { describe, expect, it } from 'vitest';
import { release } from '../../../test/support/local.js';
import { runsReferenceRuntime } from './image.js';
import { releaseKey } from './rollout.js';

describe('the local image rule', () => {
  it('runs images whose repository is app-runtime, with any registry, tag or digest', () => {
    for (const image of [
      'app-runtime',
      'app-runtime:1.0.0',
      'localhost/app-runtime:2',
      'acr.io/ttd/app-runtime@sha256:ab',
    ]) {
      expect(runsReferenceRuntime(image)).toBe(true);
    }
  });

  it('refuses every other image', () => {
    for (const image of ['ttd/forms:1', 'app-runtime-x:1', 'my-app-runtime', 'app-runtime/other:1', '']) {
      expect(runsReferenceRuntime(image)).toBe(false);
    }
  });
});

describe('release identity', () => {
  it('is the same for a release whose keys come back in another order', () => {
    const stored = JSON.parse(JSON.stringify(release(3, { B: '2', A: '1' })));
    const reordered = { ...stored, env: { A: '1', B: '2' }, config: stored.config, revision: 3 };
    expect(releaseKey(reordered)).toBe(releaseKey(release(3, { B: '2', A: '1' })));
    expect(releaseKey(release(3, { A: '2' }))).not.toBe(releaseKey(release(3, { A: '1' })));
  });
});
