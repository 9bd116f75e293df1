import type { Database } from '../../../platform/src/db/index.js';
import type { Logger } from '../../../platform/src/logging/index.js';
import { profileRepository } from '../profile/repository.js';
import { DecisionCache } from './cache.js';
import { holdingsOf, instanceRightsAllow } from './grants.js';
import { type AppPolicy, rulesFor, subjectMatchesOrg } from './policy.js';
import { authorizationRepository } from './repository.js';
import { decideSystemResource } from './system-resources.js';
import {
  type DecisionRequest,
  type DecisionResult,
  decided,
  indeterminate,
  individualRequests,
  isSystemResourceRequest,
  isUnusable,
  minimumAuthenticationLevelObligation,
  responseBody,
  STATUS,
} from './xacml.js';
import { bindXacmlRequest, XacmlBindingError, type XacmlRequest } from './xacml-request.js';

/** What the PDP needs. */
export interface DecisionPointOptions {
  db: Database;
  logger: Logger;
  /** The clock grants are valid by. */
  now: () => Date;
  /** How often the decision cache reads the database generation (ms); 1000 by default, 0 to read it every time. */
  cacheCheckIntervalMs?: number;
  /** False to evaluate every request against the database (the benchmark's cold case). */
  cache?: boolean;
}

const cacheKey = (request: DecisionRequest): string => {
  const subject =
    request.subject.kind === 'user'
      ? `u:${request.subject.userId}:${request.subject.ownPartyId ?? ''}`
      : `o:${request.subject.org}`;
  return [
    subject,
    request.partyId ?? '',
    request.org,
    request.app,
    request.task ?? '',
    request.action,
    request.instanceId ?? '',
  ].join('|');
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The guid of the instance a request names (`urn:altinn:instance-id` = `{partyId}/{instanceGuid}`) when it is one of
 * the resource's party; otherwise undefined, and rights delegated on instances do not count.
 */
function instanceGuidOf(request: DecisionRequest): string | undefined {
  const [party, guid, ...rest] = request.instanceId?.split('/') ?? [];
  if (rest.length > 0 || party !== String(request.partyId) || guid === undefined || !GUID.test(guid)) return undefined;
  return guid.toLowerCase();
}

/** A cached decision and how long it holds. */
interface Evaluated {
  result: DecisionResult;
  expiresAt: number;
}

/** Permit, with the policy's minimum authentication level as an obligation when it sets one. */
const permit = (policy: AppPolicy): DecisionResult =>
  policy.minimumAuthenticationLevel === undefined
    ? decided('Permit')
    : decided('Permit', minimumAuthenticationLevelObligation(policy.minimumAuthenticationLevel));

/**
 * A user's own party, which makes them PRIV there: Profile's when Profile knows the user (Altinn's PEP sends only
 * `urn:altinn:userid`, and a request naming another party as theirs gains nothing), else the request's.
 */
async function ownPartyOf(db: Database, userId: number, claimed: number | undefined): Promise<number | undefined> {
  const profile = await profileRepository(db).byUserId(userId);
  return profile ? profile.partyId : claimed;
}

/**
 * A user's decision on the rules of a policy that apply to the request: by a role they hold for the party (PRIV
 * on their own), by rights delegated on the app, or by rights delegated on the instance in its task.
 */
async function decideForUser(
  options: DecisionPointOptions,
  repository: ReturnType<typeof authorizationRepository>,
  request: DecisionRequest,
  about: { policy: AppPolicy; rules: ReturnType<typeof rulesFor>; userId: number; ownPartyId: number | undefined },
): Promise<Evaluated> {
  const partyId = request.partyId as number;
  const now = options.now();
  const grants = await repository.grants(about.userId, partyId, now, instanceGuidOf(request));
  const holdings = holdingsOf(grants, now, (await ownPartyOf(options.db, about.userId, about.ownPartyId)) === partyId);
  const byRole = about.rules.some((rule) => rule.subjects.some((s) => holdings.roles.has(s)));
  const byAppRights = holdings.appRights.some(
    (rights) => rights.org === request.org && rights.app === request.app && rights.actions.includes(request.action),
  );
  // Rights delegated on this instance, in the task the request names (a signee's read and sign).
  const byInstanceRights = instanceRightsAllow(holdings.instanceRights, request, request.action);
  const granted = byRole || byAppRights || byInstanceRights;
  return { result: granted ? permit(about.policy) : decided('Deny'), expiresAt: holdings.changesAt };
}

/** The app's policy: loaded once per cache generation when `policies` caches them (a failed load is not kept). */
function policyOf(
  repository: ReturnType<typeof authorizationRepository>,
  policies: Map<string, Promise<AppPolicy | undefined>> | undefined,
  org: string,
  app: string,
): Promise<AppPolicy | undefined> {
  const cached = policies?.get(`${org}/${app}`);
  if (cached) return cached;
  const load = repository.findPolicy(org, app).then((stored) => stored?.policy);
  load.catch(() => policies?.delete(`${org}/${app}`));
  policies?.set(`${org}/${app}`, load);
  return load;
}

/**
 * The policy decision point: answers XACML 3.0 JSON requests from app policies, role assignments and
 * delegations, with a per-process decision cache invalidated by the database generation.
 */
export function createDecisionPoint(options: DecisionPointOptions) {
  const repository = authorizationRepository(options.db);
  const policies = new Map<string, Promise<AppPolicy | undefined>>();
  const cache = new DecisionCache<DecisionResult>({
    readGeneration: () => repository.generation(),
    checkIntervalMs: options.cacheCheckIntervalMs ?? 1000,
    now: () => options.now().getTime(),
    onClear: () => policies.clear(),
  });
  const useCache = options.cache ?? true;

  async function evaluate(request: DecisionRequest): Promise<Evaluated> {
    const forever = Number.POSITIVE_INFINITY;
    const policy = await policyOf(repository, useCache ? policies : undefined, request.org, request.app);
    if (!policy) return { result: decided('NotApplicable'), expiresAt: forever };
    const rules = rulesFor(policy, request, request.action);
    if (rules.length === 0) return { result: decided('NotApplicable'), expiresAt: forever };
    const { subject } = request;
    if (subject.kind === 'org') {
      const granted = rules.some((rule) => rule.subjects.some((s) => subjectMatchesOrg(s, subject.org, request.org)));
      return { result: granted ? permit(policy) : decided('Deny'), expiresAt: forever };
    }
    return decideForUser(options, repository, request, {
      policy,
      rules,
      userId: subject.userId,
      ownPartyId: subject.ownPartyId,
    });
  }

  async function decideOne(request: DecisionRequest): Promise<DecisionResult> {
    if (!useCache) return (await evaluate(request)).result;
    const key = cacheKey(request);
    const cached = cache.get(key);
    if (cached) return cached;
    const epoch = cache.epoch;
    const { result, expiresAt } = await evaluate(request);
    cache.set(key, result, expiresAt, epoch);
    return result;
  }

  async function decideRequest(request: XacmlRequest): Promise<DecisionResult[]> {
    const requests = individualRequests(request);
    try {
      if (useCache) await cache.refresh();
    } catch (error) {
      options.logger.error('decision cache refresh failed', { error });
      cache.invalidate();
    }
    const results: DecisionResult[] = [];
    for (const { request: individual, echo } of requests) {
      const withEcho = (result: DecisionResult) => (echo.length > 0 ? { ...result, category: echo } : result);
      if (isUnusable(individual)) {
        results.push(withEcho(indeterminate(individual)));
        continue;
      }
      try {
        const result = isSystemResourceRequest(individual)
          ? await decideSystemResource(individual, options)
          : await decideOne(individual);
        results.push(withEcho(result));
      } catch (error) {
        options.logger.error('decision failed', { error });
        results.push(
          withEcho(indeterminate({ status: STATUS.processingError, message: 'The decision could not be made' })),
        );
      }
    }
    return results;
  }

  return {
    /** Answers a bound request: one result per individual request, in order; never throws. */
    decideRequest,

    /** Answers one individual request (DataServices' access checks), from the decision cache when it holds. */
    decideOne,

    /**
     * Answers a XACML JSON body given as a value (tests and the benchmark): bound as `POST decision` binds it, and
     * answered in its spelling; a body that does not bind is one Indeterminate syntax-error result.
     */
    decide: (body: unknown) => decideBody(decideRequest, body),

    /** Drops cached decisions and policies; every in-process change calls it after committing. */
    invalidate(): void {
      cache.invalidate();
    },

    /** Number of cached decisions (for tests and the benchmark). */
    get cachedDecisions(): number {
      return cache.size;
    },
  };
}

/** Binds `body` as `POST decision` binds it and answers it in PascalCase; a body that does not bind is one syntax error. */
async function decideBody(
  decideRequest: (request: XacmlRequest) => Promise<DecisionResult[]>,
  body: unknown,
): Promise<{ Response: Record<string, unknown>[] }> {
  let request: XacmlRequest;
  try {
    request = bindXacmlRequest(JSON.stringify(body ?? null));
  } catch (error) {
    if (!(error instanceof XacmlBindingError)) throw error;
    const result = indeterminate({ status: STATUS.syntaxError, message: error.message });
    return responseBody([result], 'pascal') as { Response: Record<string, unknown>[] };
  }
  return responseBody(await decideRequest(request), 'pascal') as { Response: Record<string, unknown>[] };
}

/** The policy decision point. */
export type DecisionPoint = ReturnType<typeof createDecisionPoint>;
