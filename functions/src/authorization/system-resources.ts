import type { Database } from '../../../platform/src/db/index.js';
import { partyRepository } from '../register/repository.js';
import { keyRoleAssignments } from './repository.js';
import { type DecisionResult, decided, indeterminate, STATUS, type SystemResourceRequest } from './xacml.js';

/**
 * The resource registry's system resource that answers whether a user holds a key role for an organisation
 * (app-lib's `AuthorizationClient.GetKeyRoleOrganizationParties`, used by signing to find the organisations a
 * signee may sign for). Its policy permits `access` to the holders of the key roles (`KEY_ROLES`).
 */
export const KEY_ROLE_RESOURCE = 'altinn_keyrole_access';

/** The system resources the PDP answers; any other `urn:altinn:resource` without an org is NotApplicable. */
export const SYSTEM_RESOURCES: ReadonlySet<string> = new Set([KEY_ROLE_RESOURCE]);

/** The action the key-role resource's policy names. */
const KEY_ROLE_ACTION = 'access';

/** What the evaluation needs. */
export interface SystemResourceOptions {
  db: Database;
  now: () => Date;
}

/**
 * Decides a request about a system resource. `altinn_keyrole_access`: Permit when the user holds one of the key roles
 * for the organisation the request names by `urn:altinn:organization:identifier-no`, at the current instant; Deny when
 * they hold none or no such organisation is registered; NotApplicable for another action, a subject that is not a
 * user, or a resource the PDP does not know; Indeterminate (missing attribute) without an organisation number.
 */
export async function decideSystemResource(
  request: SystemResourceRequest,
  options: SystemResourceOptions,
): Promise<DecisionResult> {
  if (request.resource !== KEY_ROLE_RESOURCE || request.action !== KEY_ROLE_ACTION) return decided('NotApplicable');
  if (request.subject.kind !== 'user') return decided('NotApplicable');
  if (request.organizationNumber === undefined) {
    return indeterminate({
      status: STATUS.missingAttribute,
      message: `Resource ${KEY_ROLE_RESOURCE} needs urn:altinn:organization:identifier-no`,
    });
  }
  const party = /^[0-9]{9}$/.test(request.organizationNumber)
    ? await partyRepository(options.db).byOrgNumber(request.organizationNumber)
    : undefined;
  if (!party) return decided('Deny');
  const now = options.now();
  const assignments = await keyRoleAssignments(options.db, request.subject.userId, party.partyId, now);
  const held = assignments.some((role) => role.validFrom.getTime() <= now.getTime());
  return decided(held ? 'Permit' : 'Deny');
}
