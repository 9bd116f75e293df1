import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AZURITE_CONNECTION_STRING, ConfigError, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('defaults to port 7071, .data under cwd, PGlite, Azurite and info logs', () => {
    expect(loadConfig({}, '/srv/app')).toEqual({
      port: 7071,
      dataDir: path.resolve('/srv/app/.data'),
      databaseUrl: undefined,
      blobConnectionString: AZURITE_CONNECTION_STRING,
      logLevel: 'info',
    });
  });

  it('reads every setting from the environment, FUNCTIONS_PORT winning over PORT', () => {
    const config = loadConfig(
      {
        PORT: '8080',
        FUNCTIONS_PORT: '7090',
        DATA_DIR: 'state',
        DATABASE_URL: 'postgres://app@db:5432/platform',
        BLOB_CONNECTION_STRING: 'AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net',
        LOG_LEVEL: 'debug',
      },
      '/srv/app',
    );
    expect(config).toEqual({
      port: 7090,
      dataDir: path.resolve('/srv/app/state'),
      databaseUrl: 'postgres://app@db:5432/platform',
      blobConnectionString: 'AccountName=prod;AccountKey=abc;EndpointSuffix=core.windows.net',
      logLevel: 'debug',
    });
    expect(loadConfig({ PORT: '8080' }).port).toBe(8080);
  });

  it('treats blank variables as unset instead of as port 0 or an empty URL', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '  ', LOG_LEVEL: '' }, '/srv/app');
    expect(config.port).toBe(7071);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('fails fast naming every bad variable and what is wrong with it', () => {
    let thrown: unknown;
    try {
      loadConfig({
        PORT: 'seventy',
        FUNCTIONS_PORT: '70000',
        DATABASE_URL: 'mysql://db/platform',
        BLOB_CONNECTION_STRING: 'just-a-name',
        LOG_LEVEL: 'verbose',
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const { problems, message } = thrown as ConfigError;
    expect(problems).toEqual([
      'PORT: must be a number',
      'FUNCTIONS_PORT: must be between 0 and 65535',
      'DATABASE_URL: must be a postgres:// or postgresql:// URL',
      'BLOB_CONNECTION_STRING: must be an Azure Storage connection string (Key=Value;...)',
      'LOG_LEVEL: must be one of debug, info, warn, error',
    ]);
    expect(message).toMatch(/^Invalid configuration:\n {2}PORT: must be a number\n/);
  });

  it('rejects a fractional port', () => {
    expect(() => loadConfig({ PORT: '80.5' })).toThrow('PORT: must be a whole number');
  });
});
