import { describe, expect, it } from 'vitest';
import { altinnPlatformSettings, isReservedEnvName } from './env.js';

describe('altinnPlatformSettings', () => {
  it('points every PlatformSettings endpoint app-lib reads at the platform, the PDF generator at /pdf', () => {
    const settings = altinnPlatformSettings('http://127.0.0.1:7071/');
    expect(settings.PlatformSettings__ApiStorageEndpoint).toBe('http://127.0.0.1:7071/storage/api/v1/');
    expect(settings.PlatformSettings__ApiEventsEndpoint).toBe('http://127.0.0.1:7071/events/api/v1/');
    expect(settings.PlatformSettings__ApiNotificationEndpoint).toBe('http://127.0.0.1:7071/notifications/api/v1/');
    expect(settings.PlatformSettings__ApiPdf2Endpoint).toBe('http://127.0.0.1:7071/pdf');
  });

  it('leaves them for a release to override (they are not reserved names)', () => {
    expect(isReservedEnvName('PlatformSettings__ApiPdf2Endpoint')).toBe(false);
    expect(isReservedEnvName('PLATFORM_URL')).toBe(true);
  });
});
