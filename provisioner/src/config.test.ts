import { describe, expect, it } from 'vitest';
import { loadProvisionerConfig } from './config.js';
import { aksProviderFromConfig } from './providers/aks/environment.js';

const defaults = { platformUrl: 'http://127.0.0.1:7071', mode: 'local' as const };
const production = { platformUrl: 'https://platform.example.no', mode: 'production' as const };
const STRONG = 'q3Zb9X_kP2mW7vR4tY8uA1sD6fG0hJ5lN-cV3bM9nQe';
const AZURE = { AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001', AZURE_RESOURCE_GROUP: 'rg-apps' };

describe('provisioner configuration', () => {
  it('defaults to the local provider with local timings and no edge', () => {
    expect(loadProvisionerConfig({}, defaults)).toMatchObject({
      provider: 'local',
      adminToken: undefined,
      edge: undefined,
      platformUrl: 'http://127.0.0.1:7071',
      pollMs: 250,
      progressDeadlineMs: 120_000,
    });
  });

  it("takes the apps' public URL from APPS_PUBLIC_URL, else the edge's", () => {
    expect(loadProvisionerConfig({}, defaults).appsUrl).toBeUndefined();
    const edge = { EDGE_ADMIN_URL: 'http://127.0.0.1:8787', EDGE_ADMIN_TOKEN: 'x'.repeat(16) };
    expect(loadProvisionerConfig(edge, defaults).appsUrl).toBe('http://127.0.0.1:8787');
    expect(loadProvisionerConfig({ ...edge, APPS_PUBLIC_URL: 'https://apps.example.no' }, defaults).appsUrl).toBe(
      'https://apps.example.no',
    );
  });

  it('names each bad variable', () => {
    expect(() =>
      loadProvisionerConfig(
        { PROVISIONER_PROVIDER: 'gke', PROVISIONER_ADMIN_TOKEN: 'short', PROVISIONER_POLL_MS: '-1' },
        defaults,
      ),
    ).toThrow(/PROVISIONER_PROVIDER[\s\S]*PROVISIONER_ADMIN_TOKEN[\s\S]*PROVISIONER_POLL_MS/);
    expect(() => loadProvisionerConfig({ EDGE_ADMIN_URL: 'http://127.0.0.1:8787' }, defaults)).toThrow(
      /set both or neither/,
    );
    expect(() => loadProvisionerConfig({ PROVISIONER_PROVIDER: 'aks' }, defaults)).toThrow(/AZURE_SUBSCRIPTION_ID/);
  });

  it('builds the aks provider from its Azure settings, with Kubernetes timings', () => {
    const config = loadProvisionerConfig(
      {
        PROVISIONER_PROVIDER: 'aks',
        AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000001',
        AZURE_RESOURCE_GROUP: 'rg-apps',
        AKS_INGRESS_DOMAIN: 'apps.example.no',
      },
      defaults,
    );
    expect(config).toMatchObject({ provider: 'aks', pollMs: 5_000, progressDeadlineMs: 600_000 });
    expect(config.azure).toEqual({
      subscriptionId: '00000000-0000-0000-0000-000000000001',
      resourceGroup: 'rg-apps',
      ingressDomain: 'apps.example.no',
    });
    expect(aksProviderFromConfig(config).name).toBe('aks');
  });

  it('refuses the local provider in production mode and defaults to aks there', () => {
    expect(() =>
      loadProvisionerConfig({ PROVISIONER_PROVIDER: 'local', PROVISIONER_ADMIN_TOKEN: STRONG }, production),
    ).toThrow(/PROVISIONER_PROVIDER: the local provider is for local mode only/);
    expect(() => loadProvisionerConfig({ PROVISIONER_ADMIN_TOKEN: STRONG }, production)).toThrow(
      /AZURE_SUBSCRIPTION_ID/,
    );
    expect(loadProvisionerConfig({ ...AZURE, PROVISIONER_ADMIN_TOKEN: STRONG }, production).provider).toBe('aks');
  });

  it('needs a strong admin token in production mode', () => {
    expect(() => loadProvisionerConfig({ ...AZURE }, production)).toThrow(
      /PROVISIONER_ADMIN_TOKEN: required in production mode/,
    );
    expect(() => loadProvisionerConfig({ ...AZURE, PROVISIONER_ADMIN_TOKEN: 'a'.repeat(48) }, production)).toThrow(
      /PROVISIONER_ADMIN_TOKEN/,
    );
    expect(() =>
      loadProvisionerConfig(
        {
          ...AZURE,
          PROVISIONER_ADMIN_TOKEN: STRONG,
          EDGE_ADMIN_URL: 'https://edge.example.no',
          EDGE_ADMIN_TOKEN: 'sixteen-chars-ok',
        },
        production,
      ),
    ).toThrow(/EDGE_ADMIN_TOKEN: at least 32 random bytes/);
  });
});
