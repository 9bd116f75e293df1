/**
 * Environment names a release may not set, on any provider: the runtime's and the dynamic loader's
 * (NODE_OPTIONS, LD_PRELOAD ... would run other code than the app's image), and the names the
 * platform sets itself for every replica.
 */
export function isReservedEnvName(name: string): boolean {
  return (
    /^(NODE_|LD_|DYLD_|NPM_)/i.test(name) ||
    [
      'PATH',
      'HOME',
      'TMPDIR',
      'TZ',
      'LANG',
      'ORG',
      'APP',
      'RELEASE',
      'VERSION',
      'PLATFORM_URL',
      'APP_CONFIG',
      'PORT',
    ].includes(name.toUpperCase())
  );
}

/**
 * The settings an unmodified Altinn app (app-lib's `PlatformSettings`, bound from `PlatformSettings__*` variables)
 * reads its platform endpoints from, all on `platformUrl`: the platform APIs under their production paths and the
 * PDF generator at `/pdf`. A release's own variables may override them.
 */
export function altinnPlatformSettings(platformUrl: string): Record<string, string> {
  const base = platformUrl.replace(/\/+$/, '');
  return {
    PlatformSettings__ApiStorageEndpoint: `${base}/storage/api/v1/`,
    PlatformSettings__ApiRegisterEndpoint: `${base}/register/api/v1/`,
    PlatformSettings__ApiProfileEndpoint: `${base}/profile/api/v1/`,
    PlatformSettings__ApiAuthenticationEndpoint: `${base}/authentication/api/v1/`,
    PlatformSettings__ApiAuthorizationEndpoint: `${base}/authorization/api/v1/`,
    PlatformSettings__ApiEventsEndpoint: `${base}/events/api/v1/`,
    PlatformSettings__ApiNotificationEndpoint: `${base}/notifications/api/v1/`,
    PlatformSettings__ApiPdf2Endpoint: `${base}/pdf`,
    PlatformSettings__ApiAccessManagementEndpoint: `${base}/accessmanagement/api/v1/`,
  };
}

/**
 * app-lib's `GeneralSettings` for an app reached at `{appsUrl}/{org}/{app}/`: `HostName` (cookie domain, redirect
 * check; without it app-lib's default `local.altinn.cloud` makes the app believe it runs on localtest, probe
 * `/Home/Localtest/Version` on the platform and stop at the 404) and `ExternalAppBaseUrl` (links the app builds
 * for the end user). A release's own variables may override them.
 */
export function altinnAppAddressSettings(appsUrl: string, org: string, app: string): Record<string, string> {
  const base = appsUrl.replace(/\/+$/, '');
  return {
    GeneralSettings__HostName: new URL(base).hostname,
    GeneralSettings__ExternalAppBaseUrl: `${base}/${org}/${app}/`,
  };
}
