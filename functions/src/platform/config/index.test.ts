import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AZURITE_CONNECTION_STRING, ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:7071, .data under cwd, PGlite, Azurite and info logs', () => {
    expect(loadConfig({}, '/srv/app')).toEqual({
      port: 7071,
      host: '127.0.0.1',
      dataDir: path.resolve('/srv/app/.data'),
      databaseUrl: undefined,
      blobConnectionString: AZURITE_CONNECTION_STRING,
      logLevel: 'info',
      issuer: 'http://127.0.0.1:7071/authentication/api/v1/openid/',
      blobSweep: { intervalMinutes: 60, schedule: '0 0 * * * *', graceMs: 3_600_000 },
      storage: { requireAppToken: false, enforceDataTypeLimits: false },
      seedTestData: true,
      testIdp: true,
      providers: {},
    });
  });

  it('reads every setting from the environment, FUNCTIONS_PORT winning over PORT', () => {
    const config = loadConfig(
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
      },
      '/srv/app',
    );
    expect(config).toEqual({
      port: 7090,
      host: '0.0.0.0',
      dataDir: path.resolve('/srv/app/state'),
      databaseUrl: 'postgres://app@db:5432/platform',
      blobConnectionString: 'AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net',
      logLevel: 'debug',
      issuer: 'https://platform.example.no/authentication/api/v1/openid/',
      blobSweep: { intervalMinutes: 15, schedule: '0 */15 * * * *', graceMs: 7_200_000 },
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
    });
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080);
    expect(loadConfig({ PORT: '8080', FUNCTIONS_HOST: '::1' }).issuer).toBe(
      'http://[::1]:8080/authentication/api/v1/openid/',
    );
  });

  it('seeds test data by default, not by default in Azure (WEBSITE_INSTANCE_ID), and as SEED_TEST_DATA says', () => {
    expect(loadConfig({}).seedTestData).toBe(true);
    expect(loadConfig({ WEBSITE_INSTANCE_ID: 'abc123' }).seedTestData).toBe(false);
    expect(loadConfig({ WEBSITE_INSTANCE_ID: 'abc123', SEED_TEST_DATA: '1' }).seedTestData).toBe(true);
    expect(loadConfig({ SEED_TEST_DATA: '0' }).seedTestData).toBe(false);
    expect(() => loadConfig({ SEED_TEST_DATA: 'yes' })).toThrow(/SEED_TEST_DATA: must be true, false, 1 or 0/);
  });

  it('turns the test identity provider on with test data unless TEST_IDP says otherwise', () => {
    expect(loadConfig({}).testIdp).toBe(true);
    expect(loadConfig({ SEED_TEST_DATA: 'false' }).testIdp).toBe(false);
    expect(loadConfig({ TEST_IDP: 'false' }).testIdp).toBe(false);
    expect(loadConfig({ WEBSITE_INSTANCE_ID: 'abc', TEST_IDP: 'true' }).testIdp).toBe(true);
  });

  it('needs all three settings of an external identity provider, or none', () => {
    expect(() => loadConfig({ MASKINPORTEN_ISSUER: 'https://maskinporten.no/' })).toThrow(
      /MASKINPORTEN_ISSUER, MASKINPORTEN_JWKS_URI, MASKINPORTEN_AUDIENCE: set all three or none/,
    );
    expect(() => loadConfig({ IDPORTEN_JWKS_URI: 'not a url' })).toThrow(/IDPORTEN_JWKS_URI: must be an http/);
  });

  it('treats blank variables as unset instead of as port 0 or an empty URL', () => {
    const config = loadConfig({ PORT: '', FUNCTIONS_HOST: ' ', DATABASE_URL: '  ', LOG_LEVEL: '' }, '/srv/app');
    expect(config.port).toBe(7071);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('fails fast naming every bad variable and what is wrong with it', () => {
    let thrown: unknown;
    try {
      loadConfig({
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
    expect(() => loadConfig({ PORT: '80.5' })).toThrow('PORT: must be a whole number');
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
    expect(loadConfig({ FUNCTIONS_HOST: host }).host).toBe(host);
  });

  it('trims FUNCTIONS_HOST', () => {
    expect(loadConfig({ FUNCTIONS_HOST: ' localhost\n' }).host).toBe('localhost');
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
    expect(() => loadConfig({ FUNCTIONS_HOST: host })).toThrow('FUNCTIONS_HOST: must be an IP address or a host name');
  });

  it.each([
    'AccountName=prod;AccountKey=abc==;EndpointSuffix=core.windows.net',
    'UseDevelopmentStorage=true',
    'AccountName=prod;;AccountKey=abc;',
    'BlobEndpoint=https://x.blob.core.windows.net/;SharedAccessSignature=sv=2024&sig=a%3D',
  ])('accepts the connection string %s, ignoring empty parts and = inside values', (value) => {
    expect(loadConfig({ BLOB_CONNECTION_STRING: value }).blobConnectionString).toBe(value);
  });

  it.each(['just-a-name', ';;;', '=value', ' =value', 'AccountName=prod;AccountKey', 'AccountName=prod;=abc'])(
    'refuses the connection string %s',
    (value) => {
      expect(() => loadConfig({ BLOB_CONNECTION_STRING: value })).toThrow(
        'BLOB_CONNECTION_STRING: must be an Azure Storage connection string (Key=Value;...)',
      );
    },
  );

  // These inputs made the former regex /^([^=;]+=[^;]*;?)+$/ backtrack exponentially; the check is now linear.
  it('accepts a long Key=x=x=...;; string: values may contain = and empty parts are ignored', () => {
    const value = `a=${'x='.repeat(20_000)};;`;
    expect(loadConfig({ BLOB_CONNECTION_STRING: value }).blobConnectionString).toBe(value);
  });

  it('refuses a long Key=x=x=...;; string that ends in a part without a key', () => {
    const value = `a=${'x='.repeat(20_000)};;=x`;
    expect(() => loadConfig({ BLOB_CONNECTION_STRING: value })).toThrow('BLOB_CONNECTION_STRING: must be an Azure');
  });

  it.each([
    ['1', '0 */1 * * * *'],
    ['20', '0 */20 * * * *'],
    ['60', '0 0 * * * *'],
    ['180', '0 0 */3 * * *'],
    ['1440', '0 0 0 * * *'],
  ])('runs the blob sweep every %s minutes on the NCRONTAB schedule %s', (minutes, schedule) => {
    expect(loadConfig({ BLOB_SWEEP_INTERVAL_MINUTES: minutes }).blobSweep).toMatchObject({
      intervalMinutes: Number(minutes),
      schedule,
    });
  });

  it.each(['0', '7', '45', '90', '300', '2880'])(
    'refuses a blob sweep every %s minutes, which no schedule repeats evenly',
    (minutes) => {
      expect(() => loadConfig({ BLOB_SWEEP_INTERVAL_MINUTES: minutes })).toThrow(
        'BLOB_SWEEP_INTERVAL_MINUTES: must divide',
      );
    },
  );

  it('refuses a blob sweep grace period under a minute', () => {
    expect(() => loadConfig({ BLOB_SWEEP_GRACE_MINUTES: '0' })).toThrow('BLOB_SWEEP_GRACE_MINUTES: must be at least 1');
  });
});
