import { cachedAppDirectory } from '../../platform/src/auth/index.js';
import type { FetchApp } from '../../platform/src/azure/index.js';
import type { Platform } from '../../platform/src/index.js';
import { createDashboardPage, DASHBOARD_PATH } from '../../provisioner/src/dashboard/page.js';
import { provisionerOf } from '../../provisioner/src/host.js';
import { PROVISIONER_PREFIX } from '../../provisioner/src/index.js';
import { ACCESS_MANAGEMENT_PREFIX, createAccessManagementApi } from './accessmanagement/index.js';
import { registerDirectory } from './authentication/directory.js';
import { AUTHENTICATION_PREFIX, createAuthenticationApi } from './authentication/index.js';
import { addLocaltestRoutes } from './authentication/localtest.js';
import { createTestIdentityProvider, remoteIssuer, type TrustedIssuer } from './authentication/providers.js';
import { createPartyAccess, createReportees } from './authorization/grants.js';
import { AUTHORIZATION_PREFIX, createAuthorizationApi, sharedAuthorizationServices } from './authorization/index.js';
import { authorizationRepository } from './authorization/repository.js';
import { createEventsApi, EVENTS_PREFIX } from './events/index.js';
import { createHealthApi } from './health/index.js';
import { createIntermediaryApi, INTERMEDIARY_PREFIX } from './intermediary/index.js';
import { createNotificationsApi, NOTIFICATIONS_PREFIX } from './notifications/index.js';
import { createPdfApi, PDF_PREFIX } from './pdf/index.js';
import { createChromiumRenderer } from './pdf/renderer.js';
import { systemResolve } from './pdf/target.js';
import { createProfileApi, PROFILE_PREFIX } from './profile/index.js';
import { createRegisterApi, REGISTER_PREFIX } from './register/index.js';
import { identityLookupPolicyOf } from './register/lockout.js';
import { seedRegister, TEST_ROLES } from './register/seed.js';
import { serviceOwnerRepository, TEST_SERVICE_OWNERS } from './register/service-owners.js';
import { createStorageApi, STORAGE_PREFIX } from './storage/index.js';
import { storageRepository } from './storage/repositories/repository.js';

/** How to build one platform API: mounted under `prefix`, built from the shared platform services. */
export interface ApiDefinition {
  /** Function name in Azure, e.g. `storage`. */
  name: string;
  /** Public path prefix, e.g. `/storage/api/v1`; `''` for root paths (the fallback for unknown paths too). */
  prefix: string;
  /** Builds the API's Hono app. */
  create(platform: Platform): FetchApp;
  /** Work done once on a newly opened platform before the API serves, e.g. loading test data. */
  prepare?(platform: Platform): Promise<void>;
}

/** A built platform API, ready to answer requests. */
export interface ApiEntry {
  name: string;
  prefix: string;
  app: FetchApp;
}

/** Every platform API. Later APIs (storage, register, profile, ...) are one entry each. */
export const apiDefinitions: readonly ApiDefinition[] = [
  {
    name: 'health',
    prefix: '',
    create: (platform) =>
      createHealthApi({
        logger: platform.logger,
        checks: [
          { name: 'database', check: () => platform.db.ping() },
          { name: 'blob', check: () => platform.blob.ping() },
        ],
        // Local mode: localtest's pages app-lib calls when it believes it runs on localtest (AN05, AN06).
        ...(platform.config.testIdp
          ? { routes: (app) => addLocaltestRoutes(app, { db: platform.db, issuer: platform.auth.issuer }) }
          : {}),
      }),
  },
  {
    name: 'storage',
    prefix: STORAGE_PREFIX,
    create: (platform) =>
      createStorageApi({
        db: platform.db,
        blob: platform.blob,
        logger: platform.logger,
        verifier: platform.auth.verifier,
        publicUrls: platform.config.publicUrls,
        // Whom a user may act for: their own party, roles and delegations, as Authorization decides.
        // For another party's instances of an app, the app's policy decides per action and task (as Altinn's PEP).
        partyAccess: createPartyAccess({
          db: platform.db,
          now: () => new Date(),
          decide: (request) => sharedAuthorizationServices(platform.db, platform.logger).pdp.decideOne(request),
        }),
        requireAppToken: platform.config.storage.requireAppToken,
        enforceDataTypeLimits: platform.config.storage.enforceDataTypeLimits,
      }),
  },
  {
    name: 'authentication',
    prefix: AUTHENTICATION_PREFIX,
    create(platform) {
      const { config } = platform;
      const providers: Partial<Record<'id-porten' | 'maskinporten', TrustedIssuer>> = {};
      for (const name of ['id-porten', 'maskinporten'] as const) {
        const provider = config.providers[name];
        if (provider) providers[name] = remoteIssuer(provider.issuer, provider.audience, provider.jwksUri);
      }
      const testIdp = config.testIdp ? createTestIdentityProvider(config.issuer) : undefined;
      // App-signed PlatformAccessTokens must name one of the org's own apps: Storage's application metadata.
      const applications = storageRepository(platform.db);
      platform.auth.useAppDirectory(
        cachedAppDirectory(async (org, app) => (await applications.findApplication(org, app)) !== undefined),
      );
      return createAuthenticationApi({
        auth: platform.auth,
        issuer: config.issuer,
        logger: platform.logger,
        directory: registerDirectory(platform.db),
        // The test identity provider stands in for a provider that is not configured.
        providers: { ...(testIdp?.issuers ?? {}), ...providers },
        ...(testIdp ? { testIdp } : {}),
        operatorToken: config.operatorToken,
        // The login redirect returns to the platform's or the apps' public host, or a configured one.
        login: {
          platformUrl: config.publicUrls.platform,
          redirectHosts: [new URL(config.publicUrls.apps).host, ...config.loginRedirectHosts],
        },
      });
    },
  },
  {
    name: 'register',
    prefix: REGISTER_PREFIX,
    create: (platform) =>
      createRegisterApi({
        db: platform.db,
        logger: platform.logger,
        verifier: platform.auth.verifier,
        testData: platform.config.seedTestData,
        identityLookups: identityLookupPolicyOf(platform.config.identityLookups),
        // A user reads the parties they may represent (roles such as DAGL, delegations), as Authorization decides.
        represents: (user, partyId) =>
          createReportees({ db: platform.db, now: () => new Date() }).mayRepresent(user.userId, partyId, user.partyId),
      }),
    async prepare(platform) {
      if (!platform.config.seedTestData) return;
      await seedRegister(platform.db);
      const owners = serviceOwnerRepository(platform.db);
      for (const owner of TEST_SERVICE_OWNERS) await owners.upsert(owner);
      platform.logger.info('register test data seeded', { list: `${REGISTER_PREFIX}/testdata` });
    },
  },
  {
    name: 'profile',
    prefix: PROFILE_PREFIX,
    create: (platform) => {
      const reportees = createReportees({ db: platform.db, now: () => new Date() });
      return createProfileApi({
        db: platform.db,
        logger: platform.logger,
        verifier: platform.auth.verifier,
        identityLookups: identityLookupPolicyOf(platform.config.identityLookups),
        mayRepresent: (userId, partyId, ownPartyId) => reportees.mayRepresent(userId, partyId, ownPartyId),
      });
    },
  },
  {
    name: 'authorization',
    prefix: AUTHORIZATION_PREFIX,
    create: (platform) =>
      createAuthorizationApi({
        services: sharedAuthorizationServices(platform.db, platform.logger),
        logger: platform.logger,
        verifier: platform.auth.verifier,
        // The operator's token (PROVISIONER_ADMIN_TOKEN) also issues and revokes orgs' subscription keys.
        operatorToken: platform.config.operatorToken,
      }),
    async prepare(platform) {
      if (!platform.config.seedTestData) return;
      // The seed's role assignments (register/SEED.md), through a change so every decision cache sees them.
      const services = sharedAuthorizationServices(platform.db, platform.logger);
      await services.change(async (tx) => {
        const repository = authorizationRepository(tx);
        const now = services.now();
        for (const { userId, partyId, roles } of TEST_ROLES) {
          for (const roleCode of roles) {
            await repository.insertAssignment(
              { userId, partyId, roleCode, validFrom: new Date(0), validTo: null },
              now,
            );
          }
        }
      });
    },
  },
  {
    name: 'intermediary',
    prefix: INTERMEDIARY_PREFIX,
    create: (platform) =>
      createIntermediaryApi({
        services: sharedAuthorizationServices(platform.db, platform.logger),
        logger: platform.logger,
        verifier: platform.auth.verifier,
      }),
  },
  {
    // Apps delegating rights on one instance (signees' read and sign), in the delegations Intermediary keeps.
    name: 'accessmanagement',
    prefix: ACCESS_MANAGEMENT_PREFIX,
    create: (platform) =>
      createAccessManagementApi({
        services: sharedAuthorizationServices(platform.db, platform.logger),
        logger: platform.logger,
        verifier: platform.auth.verifier,
      }),
  },
  {
    name: 'events',
    prefix: EVENTS_PREFIX,
    create: (platform) =>
      createEventsApi({ db: platform.db, logger: platform.logger, verifier: platform.auth.verifier }),
  },
  {
    name: 'notifications',
    prefix: NOTIFICATIONS_PREFIX,
    create: (platform) =>
      createNotificationsApi({ db: platform.db, logger: platform.logger, verifier: platform.auth.verifier }),
  },
  {
    // The PDF generator app-lib posts to (PlatformSettings.ApiPdf2Endpoint = {host}/pdf); one Chromium per platform.
    name: 'pdf',
    prefix: PDF_PREFIX,
    create(platform) {
      const { pdf } = platform.config;
      const logger = platform.logger.child({ component: 'pdf' });
      const renderer = createChromiumRenderer({
        executablePath: pdf.chromiumPath,
        maxPages: pdf.maxPages,
        timeoutMs: pdf.timeoutMs,
        appHosts: pdf.appHosts,
        resolve: systemResolve,
        logger,
      });
      platform.onClose(() => renderer.close());
      return createPdfApi({ logger, verifier: platform.auth.verifier, renderer, appHosts: pdf.appHosts });
    },
  },
  {
    name: 'provisioner',
    prefix: PROVISIONER_PREFIX,
    // Made once per platform (its provider holds local processes), on first use or in prepare.
    create: (platform) => ({ fetch: async (request) => (await provisionerOf(platform)).api.fetch(request) }),
    async prepare(platform) {
      await provisionerOf(platform);
    },
  },
  {
    // The operator dashboard's page; its data comes from the provisioner's GET /overview.
    name: 'dashboard',
    prefix: DASHBOARD_PATH,
    create: (platform) => createDashboardPage({ logger: platform.logger }),
  },
];

/** Runs every defined API's `prepare` on a newly opened platform, one after another. */
export async function prepareApis(
  platform: Platform,
  definitions: readonly ApiDefinition[] = apiDefinitions,
): Promise<void> {
  for (const definition of definitions) await definition.prepare?.(platform);
}

/** Builds every defined API on `platform`. */
export function createApis(platform: Platform, definitions: readonly ApiDefinition[] = apiDefinitions): ApiEntry[] {
  return definitions.map((definition) => ({
    name: definition.name,
    prefix: definition.prefix,
    app: definition.create(platform),
  }));
}

/** The Azure route template of an API: its prefix plus a catch-all (routePrefix is '' in host.json). */
export function azureRouteOf(api: { prefix: string }): string {
  return api.prefix ? `${api.prefix.slice(1)}/{*path}` : '{*path}';
}

/** True when `pathname` is `prefix` itself or below it. */
function isUnder(pathname: string, prefix: string): boolean {
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/** One fetch function serving all APIs by longest matching prefix, as the Functions host routes them. */
export function dispatchApis(apis: readonly ApiEntry[]): (request: Request) => Promise<Response> {
  const byLength = [...apis].sort((a, b) => b.prefix.length - a.prefix.length);
  return async (request) => {
    const { pathname } = new URL(request.url);
    const entry = byLength.find((api) => api.prefix === '' || isUnder(pathname, api.prefix));
    if (!entry) return new Response(null, { status: 404 });
    return entry.app.fetch(request);
  };
}
