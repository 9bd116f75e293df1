import type { DataElement } from '../models/data-element-schemas.js';
import type { Instance } from '../models/instance-schemas.js';

/** The public base URLs answers link to; configured, never taken from a request's Host header. */
export interface PublicUrls {
  /** Base of the platform APIs, e.g. `https://platform.altinn.no` (Storage lives under `/storage/api/v1`). */
  platform: string;
  /** Base of the apps, e.g. `https://ttd.apps.altinn.no` (an app lives under `/{org}/{app}`). */
  apps: string;
}

/** The defaults of PLATFORM_PUBLIC_URL and APPS_PUBLIC_URL: the local functions host and the local edge. */
export const DEFAULT_PUBLIC_URLS: PublicUrls = { platform: 'http://localhost:7071', apps: 'http://localhost:8787' };

/** Builds the absolute `selfLinks` of instances and data elements, as Altinn Storage's `SetPlatformSelfLinks`. */
export interface InstanceLinks {
  /** `{platform}{prefix}/instances/{partyId}/{guid}`. */
  instanceUrl(instanceId: string): string;
  /** The element with `selfLinks.platform` (and `apps`) pointing at it under the instance `instanceId`. */
  element(instanceId: string, appId: string, element: DataElement): DataElement;
  /** The instance with its own and its elements' `selfLinks` set. */
  instance(instance: Instance): Instance;
  /** `{platform}{prefix}/instances{search}`: the absolute `self` and `next` of an instance query. */
  queryUrl(search: string): string;
}

/** The links of Storage mounted at `prefix` with the public base URLs `urls`. */
export function instanceLinks(urls: PublicUrls, prefix: string): InstanceLinks {
  const platform = `${urls.platform.replace(/\/+$/, '')}${prefix}`;
  const apps = urls.apps.replace(/\/+$/, '');
  const instanceUrl = (instanceId: string) => `${platform}/instances/${instanceId}`;
  const element = (instanceId: string, appId: string, item: DataElement): DataElement => ({
    ...item,
    selfLinks: {
      apps: `${apps}/${appId}/instances/${instanceId}/data/${item.id}`,
      platform: `${instanceUrl(instanceId)}/data/${item.id}`,
    },
  });
  return {
    instanceUrl,
    queryUrl: (search) => `${platform}/instances${search}`,
    element,
    instance: (instance) => ({
      ...instance,
      selfLinks: { apps: `${apps}/${instance.appId}/instances/${instance.id}`, platform: instanceUrl(instance.id) },
      data: instance.data.map((item) => element(instance.id, instance.appId, item as DataElement)),
    }),
  };
}
