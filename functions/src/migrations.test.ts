import { describe, expect, it } from 'vitest';
import { checksumOf, composeMigrations, MigrationError } from '../../platform/src/db/migrate.js';
import { hostMigrations } from './migrations.js';

/**
 * The list as it was applied before each feature took its own migrations (version, name, SHA-256 of the SQL, the
 * checksum schema_migrations records): databases migrated then must find every row unchanged. Migrations added
 * later (other versions) may sit between them.
 */
const HISTORY: readonly (readonly [number, string, string])[] = [
  [1, 'platform_info', '3f5a12c494b89bc14d33b8763770fa7661136d4b4616907003024a368154d351'],
  [2, 'storage_applications_texts', '4182b28b92b45ec81e141acc868a09e793024e1582d1ba56a19fb0213f1e95d9'],
  [3, 'storage_instances', '5a17b59537c1f6d4c3924b35d3e1e480ebb82196cbf54623152f09c5aa59d02a'],
  [4, 'storage_data_elements', '820df4cc7c7ba41c92250f8d25708fd0f2641c5ff483386c09b24218cd6d5d4c'],
  [5, 'storage_instance_events', '7161fe3fd3779b032386be31983dd43f5c1bd102e7f5d52340183235199a610b'],
  [6, 'auth_signing_keys', 'e033ebb25ac0dd0df11cc2845bafe73a8e1ad5b8711a910417ed31a792eddc9a'],
  [
    7,
    'storage_instance_owner_confirmations_version',
    '4676e4e4a2322d2672599999449f042363773c544cf1fa9bcec3883728069422',
  ],
  [8, 'register_parties_profiles', '14612cff4909647c1ea0ff1d87cbba6cce332864788d66286e1e6ae39cbe9c0b'],
  [9, 'authorization_policies_roles_delegations', 'f6f33edf8131201933443ccdd43f5b1f7773746f2043ec8d4e51d26eb2663612'],
  [10, 'register_service_owners', '5bf8024544fdac33c953c4d8a919ee05252ec9d4463f59f7917aecf24e6ee51b'],
  [11, 'provisioner', 'dc0f02ab661c4b9c56f2fecf3a91fad70e0490d1d9270001c688a47a78fc8079'],
  [12, 'provisioner_deploy_truth', '2514c8641e4f694518ce1e8720fa127e691fd1e3039106dedac9a0247d89e822'],
  [13, 'provisioner_autoscaling', '51e2c51496d457fc8e9da7483b59f7bef26892803afa191a2cb8090dc30cdbb9'],
  [14, 'authorization_subscription_keys', 'e9ce56f369f5d27d62bcf5fb210e0c386acd7189b03956f59bb45251b91c8d8a'],
  [15, 'accessmanagement_instance_delegations', 'ac441fb877e45212601c6ecdd4fe7bab663ce78070f3931b781e0db0351608fd'],
  [16, 'auth_app_token_keys', '5356270200567f4053b5a94bf2c77c4423defba327a7b5dab9811ae4db64eff7'],
  [20, 'storage_instance_locks', '93cc7de37792397753500a42d308670d73e6328512dbdfb6d9f64f05950f1313'],
  [22, 'events', '46e79db1978b846e8ee2cff9bcc21c81b79544184cd3a4d9aa79242149471981'],
  [23, 'notifications', '786e6accfea47463a0e29721850590f1a4cba4a2e6c67ae514b4b04fa744aba4'],
];

describe('hostMigrations', () => {
  it('is the historical list: same versions, names and checksums, in order', () => {
    const historical = new Set(HISTORY.map(([version]) => version));
    const composed = hostMigrations.filter((m) => historical.has(m.version));
    expect(composed.map((m) => [m.version, m.name, checksumOf(m)])).toEqual(HISTORY);
  });

  it('has versions in strictly ascending order', () => {
    const versions = hostMigrations.map((m) => m.version);
    expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  });
});

describe('composeMigrations', () => {
  it('merges lists by version', () => {
    const a = { version: 2, name: 'b', sql: 'SELECT 2' };
    const b = { version: 1, name: 'a', sql: 'SELECT 1' };
    expect(composeMigrations([a], [b]).map((m) => m.version)).toEqual([1, 2]);
  });

  it('refuses two features claiming one version', () => {
    const a = { version: 3, name: 'one', sql: 'SELECT 1' };
    const b = { version: 3, name: 'two', sql: 'SELECT 2' };
    expect(() => composeMigrations([a], [b])).toThrow(MigrationError);
  });
});
