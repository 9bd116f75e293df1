import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AZURITE_CONNECTION_STRING, ConfigError, isStrongSecret, loadConfig } from './index.js';

/** Local mode, as `npm start` and the tests ask for it. */
const localConfig = (env: NodeJS.ProcessEnv, cwd?: string) => loadConfig({ PLATFORM_MODE: 'local', ...env }, cwd);

/** Every setting production mode needs, valid. */
const PRODUCTION: NodeJS.ProcessEnv = {
  PLATFORM_ISSUER: 'https://platform.example.no/authentication/api/v1/openid/',
  DATABASE_URL: 'postgres://app@db:5432/platform',
  BLOB_CONNECTION_STRING: 'AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net',
  IDPORTEN_ISSUER: 'https://idporten.no',
  IDPORTEN_JWKS_URI: 'https://idporten.no/jwks.json',
  IDPORTEN_AUDIENCE: 'altinn-platform',
  MASKINPORTEN_ISSUER: 'https://maskinporten.no/',
  MASKINPORTEN_JWKS_URI: 'https://maskinporten.no/jwk',
  MASKINPORTEN_AUDIENCE: 'https://platform.example.no/',
};

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:7071, .data under cwd, PGlite, Azurite and info logs', () => {
    expect(localConfig({}, '/srv/app')).toEqual({
      mode: 'local',
      port: 7071,
      host: '127.0.0.1',
      dataDir: path.resolve('/srv/app/.data'),
      databaseUrl: undefined,
      blobConnectionString: AZURITE_CONNECTION_STRING,
      logLevel: 'info',
      issuer: 'http://127.0.0.1:7071/authentication/api/v1/openid/',
      blobSweep: { intervalMinutes: 60, schedule: '0 0 * * * *', graceMs: 3_600_000 },
      publicUrls: { platform: 'http://localhost:7071', apps: 'http://localhost:8787' },
      storage: { requireAppToken: false, enforceDataTypeLimits: false },
      seedTestData: true,
      testIdp: true,
      providers: {},
      operatorToken: undefined,
      loginRedirectHosts: ['localhost', '127.0.0.1'],
      pdf: {
        appHosts: ['localhost', '127.0.0.1', '*.local.altinn.cloud'],
        chromiumPath: '/usr/bin/chromium',
        maxPages: 2,
        timeoutMs: 30_000,
      },
      identityLookups: { failuresPerHour: 10, foundPerHour: 5000 },
    });
  });

  it('reads every setting from the environment, FUNCTIONS_PORT winning over PORT', () => {
    const config = localConfig(
      {
        PORT: '8080',
        FUNCTIONS_PORT: '7090',
        FUNCTIONS_HOST: '0.0.0.0',
        DATA_DIR: 'state',
        DATABASE_URL: 'postgres://app@db:5432/platform',
        BLOB_CONNECTION_STRING: 'AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net',
        LOG_LEVEL: 'debug',
        PLATFORM_ISSUER: 'https://platform.example.no/authentication/api/v1/openid/',
        BLOB_SWEEP_INTERVAL_MINUTES: '15',
        BLOB_SWEEP_GRACE_MINUTES: '120',
        SEED_TEST_DATA: 'false',
        STORAGE_REQUIRE_APP_TOKEN: 'true',
        STORAGE_ENFORCE_DATA_TYPE_LIMITS: '1',
        IDPORTEN_ISSUER: 'https://test.idporten.no',
        IDPORTEN_JWKS_URI: 'https://test.idporten.no/jwks.json',
        IDPORTEN_AUDIENCE: 'altinn-platform',
        PDF_APP_HOSTS: '*.apps.altinn.no, ttd.example:8443',
        CHROMIUM_PATH: '/opt/chromium/chrome',
        PDF_MAX_PAGES: '4',
        PDF_TIMEOUT_SECONDS: '60',
        IDENTITY_LOOKUP_FAILURES_PER_HOUR: '5',
        IDENTITY_LOOKUP_QUOTA_PER_HOUR: '20000',
      },
      '/srv/app',
    );
    expect(config).toEqual({
      mode: 'local',
      port: 7090,
      host: '0.0.0.0',
      dataDir: path.resolve('/srv/app/state'),
      databaseUrl: 'postgres://app@db:5432/platform',
      blobConnectionString: 'AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net',
      logLevel: 'debug',
      issuer: 'https://platform.example.no/authentication/api/v1/openid/',
      blobSweep: { intervalMinutes: 15, schedule: '0 */15 * * * *', graceMs: 7_200_000 },
      publicUrls: { platform: 'http://localhost:7071', apps: 'http://localhost:8787' },
      storage: { requireAppToken: true, enforceDataTypeLimits: true },
      seedTestData: false,
      testIdp: false,
      providers: {
        'id-porten': {
          issuer: 'https://test.idporten.no',
          jwksUri: 'https://test.idporten.no/jwks.json',
          audience: 'altinn-platform',
        },
      },
      operatorToken: undefined,
      loginRedirectHosts: [],
      pdf: {
        appHosts: ['*.apps.altinn.no', 'ttd.example:8443'],
        chromiumPath: '/opt/chromium/chrome',
        maxPages: 4,
        timeoutMs: 60_000,
      },
      identityLookups: { failuresPerHour: 5, foundPerHour: 20000 },
    });
    expect(localConfig({ PORT: '8080' }).port).toBe(8080);
    expect(localConfig({ PORT: '8080', FUNCTIONS_HOST: '::1' }).issuer).toBe(
      'http://[::1]:8080/authentication/api/v1/openid/',
    );
  });

  it('seeds test data by default in local mode, and as SEED_TEST_DATA says', () => {
    expect(localConfig({}).seedTestData).toBe(true);
    expect(localConfig({ SEED_TEST_DATA: '0' }).seedTestData).toBe(false);
    expect(() => localConfig({ SEED_TEST_DATA: 'yes' })).toThrow(/SEED_TEST_DATA: must be true, false, 1 or 0/);
  });

  it('renders PDFs of no host by default in production, and refuses malformed PDF settings', () => {
    expect(loadConfig(PRODUCTION).pdf.appHosts).toEqual([]);
    expect(loadConfig({ ...PRODUCTION, PDF_APP_HOSTS: '*.apps.altinn.no' }).pdf.appHosts).toEqual(['*.apps.altinn.no']);
    expect(() => localConfig({ PDF_APP_HOSTS: 'https://x.no' })).toThrow(/PDF_APP_HOSTS/);
    expect(() => localConfig({ PDF_MAX_PAGES: '0' })).toThrow(/PDF_MAX_PAGES/);
    expect(() => localConfig({ PDF_TIMEOUT_SECONDS: '600' })).toThrow(/PDF_TIMEOUT_SECONDS/);
  });

  it('turns the test identity provider on with test data unless TEST_IDP says otherwise', () => {
    expect(localConfig({}).testIdp).toBe(true);
    expect(localConfig({ SEED_TEST_DATA: 'false' }).testIdp).toBe(false);
    expect(localConfig({ TEST_IDP: 'false' }).testIdp).toBe(false);
    expect(localConfig({ SEED_TEST_DATA: 'false', TEST_IDP: 'true' }).testIdp).toBe(true);
  });

  it('runs in production mode unless local mode is asked for, with no test identity provider and no seed data', () => {
    const config = loadConfig(PRODUCTION);
    expect(config).toMatchObject({ mode: 'production', seedTestData: false, testIdp: false });
    expect(loadConfig({ ...PRODUCTION, PLATFORM_MODE: 'production' }).mode).toBe('production');
    expect(() => loadConfig({ PLATFORM_MODE: 'dev' })).toThrow(/PLATFORM_MODE: must be one of local, production/);
  });

  it('fails closed as a bare container would start it: no variables is a startup error naming each missing setting', () => {
    let thrown: unknown;
    try {
      loadConfig({});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const problems = (thrown as ConfigError).problems.join('\n');
    for (const name of [
      'PLATFORM_ISSUER',
      'DATABASE_URL',
      'BLOB_CONNECTION_STRING',
      'IDPORTEN_ISSUER',
      'MASKINPORTEN_ISSUER',
    ]) {
      expect(problems).toContain(name);
    }
  });

  it('refuses local-only features in production mode, naming the setting', () => {
    expect(() => loadConfig({ ...PRODUCTION, SEED_TEST_DATA: 'true' })).toThrow(
      /SEED_TEST_DATA: seed data is for local mode only/,
    );
    expect(() => loadConfig({ ...PRODUCTION, TEST_IDP: '1' })).toThrow(
      /TEST_IDP: the test identity provider is for local mode only/,
    );
    expect(() => loadConfig({ ...PRODUCTION, PLATFORM_ISSUER: 'http://platform.example.no/' })).toThrow(
      /PLATFORM_ISSUER: must be an https:\/\/ URL in production mode/,
    );
    expect(() => loadConfig({ ...PRODUCTION, BLOB_CONNECTION_STRING: AZURITE_CONNECTION_STRING })).toThrow(
      /development account key is refused/,
    );
    expect(loadConfig({ ...PRODUCTION, SEED_TEST_DATA: 'false', TEST_IDP: '0' }).testIdp).toBe(false);
    expect(() => loadConfig({ ...PRODUCTION, BLOB_PATH: '/var/blobs' })).toThrow(
      /BLOB_PATH: a blob store on the local filesystem is for local mode only/,
    );
  });

  it('takes a local blob folder (BLOB_PATH) in local mode, resolved against the working directory, not beside a connection string', () => {
    const config = loadConfig({ PLATFORM_MODE: 'local', BLOB_PATH: 'data/blobs' }, '/srv/platform');
    expect(config.blobPath).toBe('/srv/platform/data/blobs');
    expect(loadConfig({ PLATFORM_MODE: 'local' }).blobPath).toBeUndefined();
    expect(() =>
      loadConfig({ PLATFORM_MODE: 'local', BLOB_PATH: 'b', BLOB_CONNECTION_STRING: AZURITE_CONNECTION_STRING }),
    ).toThrow(/BLOB_PATH, BLOB_CONNECTION_STRING: give one blob store, not both/);
  });

  it('takes only long, varied admin secrets as strong', () => {
    expect(isStrongSecret('x'.repeat(64))).toBe(false);
    expect(isStrongSecret('short-but-varied-123')).toBe(false);
    expect(isStrongSecret('q3Zb9X_kP2mW7vR4tY8uA1sD6fG0hJ5lN-cV3bM9nQe')).toBe(true);
  });

  it('needs all three settings of an external identity provider, or none', () => {
    expect(() => localConfig({ MASKINPORTEN_ISSUER: 'https://maskinporten.no/' })).toThrow(
      /MASKINPORTEN_ISSUER, MASKINPORTEN_JWKS_URI, MASKINPORTEN_AUDIENCE: set all three or none/,
    );
    expect(() => localConfig({ IDPORTEN_JWKS_URI: 'not a url' })).toThrow(/IDPORTEN_JWKS_URI: must be an http/);
  });

  it('treats blank variables as unset instead of as port 0 or an empty URL', () => {
    const config = localConfig({ PORT: '', FUNCTIONS_HOST: ' ', DATABASE_URL: '  ', LOG_LEVEL: '' }, '/srv/app');
    expect(config.port).toBe(7071);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('fails fast naming every bad variable and what is wrong with it', () => {
    let thrown: unknown;
    try {
      localConfig({
        PORT: 'seventy',
        FUNCTIONS_PORT: '70000',
        FUNCTIONS_HOST: 'http://example.com',
        DATABASE_URL: 'mysql://db/platform',
        BLOB_CONNECTION_STRING: 'just-a-name',
        LOG_LEVEL: 'verbose',
        PLATFORM_ISSUER: 'platform.example.no',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const { problems, message } = thrown as ConfigError;
    expect(problems).toEqual([
      'PORT: must be a number',
      'FUNCTIONS_PORT: must be between 0 and 65535',
      'FUNCTIONS_HOST: must be an IP address or a host name',
      'DATABASE_URL: must be a postgres:// or postgresql:// URL',
      'BLOB_CONNECTION_STRING: must be an Azure Storage connection string (Key=Value;...)',
      'LOG_LEVEL: must be one of debug, info, warn, error',
      'PLATFORM_ISSUER: must be an http:// or https:// URL',
    ]);
    expect(message).toMatch(/^Invalid configuration:\n {2}PORT: must be a number\n/);
  });

  it('rejects a fractional port', () => {
    expect(() => localConfig({ PORT: '80.5' })).toThrow('PORT: must be a whole number');
  });

  it.each([
    '127.0.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'localhost',
    'functions',
    'host.docker.internal',
    'my-host.',
  ])('accepts FUNCTIONS_HOST %s as an IP address or host name', (host) => {
    expect(localConfig({ FUNCTIONS_HOST: host }).host).toBe(host);
  });

  it('trims FUNCTIONS_HOST', () => {
    expect(localConfig({ FUNCTIONS_HOST: ' localhost\n' }).host).toBe('localhost');
  });

  it.each([
    'http://localhost',
    'localhost:7071',
    '[::1]',
    'my host',
    '-leading-hyphen',
    'under_score',
    '999.1.1.1',
    'a..b',
    `${'a'.repeat(64)}.example`,
  ])('refuses FUNCTIONS_HOST %s', (host) => {
    expect(() => localConfig({ FUNCTIONS_HOST: host })).toThrow('FUNCTIONS_HOST: must be an IP address or a host name');
  });

  it.each([
    'AccountName=prod;AccountKey=abc==;EndpointSuffix=core.windows.net',
    'UseDevelopmentStorage=true',
    'AccountName=prod;;AccountKey=abc;',
    'BlobEndpoint=https://x.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=a%3D',
  ])('accepts the connection string %s, ignoring empty parts and = inside values', (value) => {
    expect(localConfig({ BLOB_CONNECTION_STRING: value }).blobConnectionString).toBe(value);
  });

  it.each(['just-a-name', ';;;', '=value', ' =value', 'AccountName=prod;AccountKey', 'AccountName=prod;=abc'])(
    'refuses the connection string %s',
    (value) => {
      expect(() => localConfig({ BLOB_CONNECTION_STRING: value })).toThrow(
        'BLOB_CONNECTION_STRING: must be an Azure Storage connection string (Key=Value;...)',
      );
    },
  );

  // These inputs made the former regex /^([^=;]+=[^;]*;?)+$/ backtrack exponentially; the check is now linear.
  it('accepts a long Key=x=x=...;; string: values may contain = and empty parts are ignored', () => {
    const value = `a=${'x='.repeat(20_000)};;`;
    expect(localConfig({ BLOB_CONNECTION_STRING: value }).blobConnectionString).toBe(value);
  });

  it('refuses a long Key=x=x=...;; string that ends in a part without a key', () => {
    const value = `a=${'x='.repeat(20_000)};;=x`;
    expect(() => localConfig({ BLOB_CONNECTION_STRING: value })).toThrow('BLOB_CONNECTION_STRING: must be an Azure');
  });

  it.each([
    ['1', '0 */1 * * * *'],
    ['20', '0 */20 * * * *'],
    ['60', '0 0 * * * *'],
    ['180', '0 0 */3 * * *'],
    ['1440', '0 0 0 * * *'],
  ])('runs the blob sweep every %s minutes on the NCRONTAB schedule %s', (minutes, schedule) => {
    expect(localConfig({ BLOB_SWEEP_INTERVAL_MINUTES: minutes }).blobSweep).toMatchObject({
      intervalMinutes: Number(minutes),
      schedule,
    });
  });

  it.each(['0', '7', '45', '90', '300', '2880'])(
    'refuses a blob sweep every %s minutes, which no schedule repeats evenly',
    (minutes) => {
      expect(() => localConfig({ BLOB_SWEEP_INTERVAL_MINUTES: minutes })).toThrow(
        'BLOB_SWEEP_INTERVAL_MINUTES: must divide',
      );
    },
  );

  it('refuses a blob sweep grace period under a minute', () => {
    expect(() => localConfig({ BLOB_SWEEP_GRACE_MINUTES: '0' })).toThrow(
      'BLOB_SWEEP_GRACE_MINUTES: must be at least 1',
    );
  });
});
