import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { refusing, tokenOf, unauthorized } from './middleware.js';
import { forbidden, hasScope } from './principal.js';
import type { TokenVerifier } from './tokens.js';

/** The scope an org token needs to manage what its apps are deployed with. */
export const APP_DEPLOY_SCOPE = 'altinn:appdeploy';

/** What an org's deploy-time credentials (subscription keys, app-token keys) are managed with. */
export interface OrgManagerOptions {
  verifier: TokenVerifier;
  /** The operator's token (PROVISIONER_ADMIN_TOKEN); without one only orgs manage their own. */
  operatorToken: string | undefined;
  /** What is managed, in the problems' words, e.g. `subscription keys`. */
  what: string;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The check of who manages an org's deploy-time credentials: the operator (its token compared in constant time) or
 * the org itself with an org token holding `altinn:appdeploy`. Answers the actor (`operator` or `org:{org}`); throws
 * 401 without a usable token and 403 for anyone else.
 */
export function orgManager(options: OrgManagerOptions): (c: Context, org: string) => Promise<string> {
  const operator = options.operatorToken ? digest(options.operatorToken) : undefined;
  return async (c, org) => {
    const token = tokenOf(c.req.header('authorization'), undefined);
    if (token === undefined) {
      throw unauthorized(
        `Managing ${options.what} needs Authorization: Bearer with an org token (${APP_DEPLOY_SCOPE}) or the operator's token`,
        'Bearer realm="platform"',
      );
    }
    if (operator && timingSafeEqual(digest(token), operator)) return 'operator';
    const principal = await refusing('Token', () => options.verifier.verify(token));
    if (principal.kind !== 'org' || principal.org !== org) {
      throw forbidden(`Only the operator and the org ${org} itself manage ${org}'s ${options.what}.`);
    }
    if (!hasScope(principal, APP_DEPLOY_SCOPE)) {
      throw forbidden(`Managing ${options.what} needs the scope ${APP_DEPLOY_SCOPE}.`);
    }
    return `org:${org}`;
  };
}
