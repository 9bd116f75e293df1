import { ContainerServiceClient } from '@azure/arm-containerservice';
import { DefaultAzureCredential } from '@azure/identity';
import type { ProvisionerConfig } from '../../config.js';
import { AksProvider } from './index.js';

/**
 * The aks provider as it runs in Azure: an ARM client for the configured subscription, signed in with
 * the function app's managed identity (or whatever `DefaultAzureCredential` finds: environment,
 * workload identity, Azure CLI). The SDK's own retries are off, so that every 429 and 5xx reaches the
 * reconciler, which waits `Retry-After` between steps instead of inside one.
 */
export function aksProviderFromConfig(config: ProvisionerConfig): AksProvider {
  if (!config.azure) throw new Error('PROVISIONER_PROVIDER=aks needs AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP');
  const client = new ContainerServiceClient(new DefaultAzureCredential(), config.azure.subscriptionId, {
    retryOptions: { maxRetries: 0 },
  });
  return new AksProvider({
    client,
    resourceGroup: config.azure.resourceGroup,
    ingressUrlTemplate: `https://{org}.${config.azure.ingressDomain}`,
    platformUrl: config.platformUrl,
    ...(config.appsUrl ? { appsUrl: config.appsUrl } : {}),
  });
}
