import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import {
  ACCESS_TOKEN_HEADER,
  type AppIdentity,
  forbidden,
  type Principal,
  RUNTIME_COOKIE,
  refusing,
  type TokenVerifier,
  tokenOf,
  unauthorized,
} from '../../../platform/src/auth/index.js';
import type { Database } from '../../../platform/src/db/index.js';
import { Problem } from '../../../platform/src/errors/index.js';
import { SUBSCRIPTION_KEY_HEADER, subscriptionKeyRepository } from './subscription-keys.js';
import { SYSTEM_RESOURCES } from './system-resources.js';
import { ATTRIBUTES } from './xacml.js';
import type { XacmlRequest } from './xacml-request.js';

/**
 * Who asks `POST decision`, and what each may ask:
 * - `app`: an org's app by its platform subscription key, as Altinn's PEP calls (no token): about any user, for
 *   resources of the key's org only;
 * - `token`: a platform token; an end user without their app's PlatformAccessToken asks about themself only,
 *   orgs and apps (PlatformAccessToken) deciding for their users ask about anyone.
 */
export type DecisionCaller =
  | { kind: 'app'; org: string; keyId: string }
  | { kind: 'token'; principal: Principal; appIdentity: AppIdentity | undefined };

/** What resolving a caller needs. */
export interface DecisionAccessOptions {
  db: Database;
  verifier: TokenVerifier;
  now: () => Date;
}

/**
 * The caller of a `POST decision`: a subscription key when one is sent (it must be valid: unknown, revoked or
 * expired keys are a 401, whatever else the request carries), else a platform token (Bearer or the runtime cookie).
 * Neither is a 401: decisions are never answered to anonymous callers.
 */
export async function decisionCallerOf(c: Context, options: DecisionAccessOptions): Promise<DecisionCaller> {
  const key = c.req.header(SUBSCRIPTION_KEY_HEADER)?.trim();
  const token = tokenOf(c.req.header('authorization'), getCookie(c, RUNTIME_COOKIE));
  if (key) {
    const found = await subscriptionKeyRepository(options.db).verify(key, options.now());
    if (!found) {
      throw new Problem(401, {
        kind: 'unauthorized',
        detail: `The ${SUBSCRIPTION_KEY_HEADER} is not a valid platform subscription key (unknown, revoked or expired).`,
        headers: { 'WWW-Authenticate': `ApiKey realm="platform", header="${SUBSCRIPTION_KEY_HEADER}"` },
      });
    }
    // A token sent beside the key must be valid too, though the key decides what the call may ask.
    if (token !== undefined) await refusing('Token', () => options.verifier.verify(token));
    return { kind: 'app', org: found.org, keyId: found.id };
  }
  if (token === undefined) {
    throw unauthorized(
      `POST decision needs a platform subscription key (${SUBSCRIPTION_KEY_HEADER}) or a platform token ` +
        `(Authorization: Bearer or the ${RUNTIME_COOKIE} cookie)`,
      'Bearer realm="platform"',
    );
  }
  const principal = await refusing('Token', () => options.verifier.verify(token));
  const accessToken = c.req.header(ACCESS_TOKEN_HEADER);
  const appIdentity =
    accessToken === undefined
      ? undefined
      : await refusing(ACCESS_TOKEN_HEADER, () => options.verifier.verifyAccessToken(accessToken));
  return { kind: 'token', principal, appIdentity };
}

/** Subject attribute ids naming who the subject is (compared ignoring case, so no spelling slips past). */
const IDENTITY_ATTRIBUTES = new Set(
  [
    ATTRIBUTES.userId,
    ATTRIBUTES.partyId,
    ATTRIBUTES.org,
    'urn:altinn:orgnumber',
    'urn:altinn:organizationnumber',
    'urn:altinn:organization:identifier-no',
    'urn:altinn:person:identifier-no',
    'urn:altinn:person:uuid',
    'urn:altinn:party:uuid',
    'urn:altinn:systemuser:uuid',
    'urn:altinn:resource',
  ].map((id) => id.toLowerCase()),
);

/**
 * Whether a Resource names one of the platform's system resources and nothing an app resource is known by: exactly
 * one `urn:altinn:resource` (spelled so) whose value is a system resource, and no `urn:altinn:org` or `urn:altinn:app`
 * in any casing. Any app may ask about these, as app-lib's key-role question does through the PEP.
 */
function isSystemResource(attributes: readonly { attributeId: string; value: string }[]): boolean {
  const named = (id: string) => attributes.filter((a) => a.attributeId.toLowerCase() === id);
  const resources = named(ATTRIBUTES.resource);
  return (
    resources.length === 1 &&
    resources[0]?.attributeId === ATTRIBUTES.resource &&
    SYSTEM_RESOURCES.has(resources[0].value) &&
    named(ATTRIBUTES.org).length === 0 &&
    named(ATTRIBUTES.app).length === 0
  );
}

/**
 * Refuses (403) a request the caller may not ask, judged on the bound request only (the one the PDP evaluates):
 * - an app (subscription key) only about resources of its own org: every Resource carries exactly one
 *   `urn:altinn:org`, the key's, or names a system resource (`altinn_keyrole_access`) and no org or app;
 * - an end user without their app only about themself: every AccessSubject names exactly their `urn:altinn:userid`,
 *   a `urn:altinn:partyid` if any is theirs, and no other identity (org, person, party, system user).
 */
export function guardDecisionRequest(caller: DecisionCaller, request: XacmlRequest): void {
  if (caller.kind === 'app') {
    request.resource.forEach((resource, index) => {
      if (isSystemResource(resource.attributes)) return;
      const orgs = resource.attributes.filter((a) => a.attributeId.toLowerCase() === ATTRIBUTES.org);
      if (orgs.length !== 1 || orgs[0]?.attributeId !== ATTRIBUTES.org || orgs[0].value !== caller.org) {
        throw forbidden(
          `Resource[${index}]: a subscription key of ${caller.org} may ask about its own apps only ` +
            `(exactly one ${ATTRIBUTES.org} = ${caller.org}).`,
        );
      }
    });
    return;
  }
  const { principal, appIdentity } = caller;
  if (principal.kind !== 'user' || appIdentity) return;
  const own = new Map<string, string>([
    [ATTRIBUTES.userId, String(principal.userId)],
    [ATTRIBUTES.partyId, String(principal.partyId)],
  ]);
  const refuse = (index: number, why: string): never => {
    throw forbidden(
      `AccessSubject[${index}]: user ${principal.userId} may ask for decisions about themself only (${why}).`,
    );
  };
  request.accessSubject.forEach((subject, index) => {
    let userIds = 0;
    for (const { attributeId, value } of subject.attributes) {
      const lower = attributeId.toLowerCase();
      if (!IDENTITY_ATTRIBUTES.has(lower)) continue;
      const mine = own.get(attributeId);
      if (mine === undefined) refuse(index, `${attributeId} names someone`);
      if (value !== mine) refuse(index, `${attributeId} is ${value}`);
      if (attributeId === ATTRIBUTES.userId) userIds += 1;
    }
    if (userIds !== 1) refuse(index, `exactly one ${ATTRIBUTES.userId} is needed`);
  });
}
