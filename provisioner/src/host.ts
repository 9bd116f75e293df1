import type { Platform } from '../../platform/src/index.js';
import { loadProvisionerConfig, type ProvisionerConfig } from './config.js';
import { createProvisioner, type Provisioner } from './index.js';
import { LocalProvider } from './providers/local/index.js';
import type { Provider } from './providers/types.js';

const provisioners = new WeakMap<Platform, Provisioner>();

/** The provider the configuration names; `aks` needs an Azure credential, see providers/aks. */
async function providerFor(config: ProvisionerConfig, platform: Platform): Promise<Provider> {
  if (config.provider === 'aks') {
    // Loaded only when chosen, so a local host never loads the Azure SDKs.
    const { aksProviderFromConfig } = await import('./providers/aks/environment.js');
    return aksProviderFromConfig(config);
  }
  return new LocalProvider({
    platformUrl: config.platformUrl,
    accessTokenFor: (org, app) => platform.auth.issuer.accessToken({ org, app }),
    progressDeadlineMs: config.progressDeadlineMs,
    logger: platform.logger.child({ component: 'local-provider' }),
  });
}

/**
 * The platform's provisioner, made once per platform and closed with it: its API is one more API of
 * the functions host, and its reconciler runs as a loop (local host) or a timer (Azure).
 */
export async function provisionerOf(platform: Platform): Promise<Provisioner> {
  const existing = provisioners.get(platform);
  if (existing) return existing;
  const config = loadProvisionerConfig(process.env, {
    platformUrl: `http://${platform.config.host.includes(':') ? `[${platform.config.host}]` : platform.config.host}:${platform.config.port}`,
    mode: platform.config.mode,
  });
  const provider = await providerFor(config, platform);
  const again = provisioners.get(platform);
  if (again) {
    await provider.close();
    return again;
  }
  const provisioner = createProvisioner({
    db: platform.db,
    logger: platform.logger.child({ component: 'provisioner' }),
    verifier: platform.auth.verifier,
    config,
    provider,
  });
  provisioners.set(platform, provisioner);
  platform.onClose(() => provisioner.close());
  return provisioner;
}
