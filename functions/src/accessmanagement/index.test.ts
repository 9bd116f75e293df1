import { describe, expect, it } from 'vitest';
import { appOfResourceId } from './instance-delegations.js';

describe('appOfResourceId', () => {
  it("reads the org and app of an app's resource id, app_{org}_{app}", () => {
    expect(appOfResourceId('app_ttd_signing-app')).toEqual({ org: 'ttd', app: 'signing-app' });
  });

  it('answers 400 naming resourceId for anything else', () => {
    for (const id of ['ttd/signapp', 'app_ttd', 'app_TTD_x', 'app_ttd_x_y', 'urn:altinn:resource:app_ttd_x']) {
      expect(() => appOfResourceId(id)).toThrow(/resourceId/);
    }
  });
});
