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
