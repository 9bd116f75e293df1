import { z } from '@hono/zod-openapi';

/** The actions an app policy grants, as Altinn's app policies name them. */
export const ACTIONS = ['read', 'write', 'instantiate', 'delete', 'confirm', 'sign'] as const;

/** One action of an app policy. */
export type Action = (typeof ACTIONS)[number];

/** Subject of a rule that means the org owning the app (Altinn's `urn:altinn:org` = `[org]` match). */
export const APP_OWNER_SUBJECT = 'urn:altinn:org';

/** Prefix of a subject naming another org, e.g. `urn:altinn:org:skd`. */
export const ORG_SUBJECT_PREFIX = 'urn:altinn:org:';

const Name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and -');

/** A role code as Altinn's: DAGL, PRIV, REGNA, ADMAI ... */
export const RoleCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9-]{1,19}$/, 'must be an upper-case role code such as DAGL, PRIV or REGNA')
  .openapi({ example: 'DAGL' });

const Subject = z.union([
  RoleCode,
  z.literal(APP_OWNER_SUBJECT),
  z.string().regex(/^urn:altinn:org:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be urn:altinn:org:{org}'),
]);

const Resource = z.strictObject({
  org: Name,
  app: Name,
  /** The process task the rule is for (e.g. `Task_1`); absent for every task and for requests without one. */
  task: z.string().min(1).max(100).optional(),
});

const Rule = z.strictObject({
  id: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  /** Role codes, `urn:altinn:org` (the app's owner) or `urn:altinn:org:{org}`; any one matching grants. */
  subjects: z.array(Subject).min(1),
  actions: z.array(z.enum(ACTIONS)).min(1),
  resources: z.array(Resource).min(1),
});

/**
 * An app policy: our JSON equivalent of the XACML policy Altinn stores per app (`policy.xml`). Every rule
 * permits its `actions` on its `resources` to its `subjects`. A request the policy targets (its app, and an
 * action some rule grants for its task) that no rule permits is denied; one it does not target is
 * NotApplicable. `minimumAuthenticationLevel` becomes the `urn:altinn:minimum-authenticationlevel`
 * obligation of every Permit, as Altinn's policy obligation does; the caller (PEP) enforces it.
 */
export const AppPolicy = z
  .strictObject({
    rules: z.array(Rule).min(1),
    minimumAuthenticationLevel: z.number().int().min(0).max(4).optional(),
  })
  .openapi('AppPolicy');

/** An app policy as stored. */
export type AppPolicy = z.infer<typeof AppPolicy>;

/** One rule of an app policy. */
export type PolicyRule = z.infer<typeof Rule>;

/** The resource fields of one decision request. */
export interface ResourceTarget {
  org: string;
  app: string;
  task: string | undefined;
}

/** The rules of `policy` that grant `action` on `resource`: the app and, when a rule names a task, that task. */
export function rulesFor(policy: AppPolicy, resource: ResourceTarget, action: string): PolicyRule[] {
  return policy.rules.filter(
    (rule) =>
      rule.actions.some((granted) => granted === action) &&
      rule.resources.some(
        (target) =>
          target.org === resource.org &&
          target.app === resource.app &&
          (target.task === undefined || target.task === resource.task),
      ),
  );
}

/** Names of rule resources in `policy` that are not the app `org/app` (a policy describes its own app only). */
export function foreignResources(policy: AppPolicy, org: string, app: string): string[] {
  return policy.rules.flatMap((rule, index) =>
    rule.resources.flatMap((resource, at) =>
      resource.org === org && resource.app === app ? [] : [`rules[${index}].resources[${at}]`],
    ),
  );
}

/** Whether a subject of a rule names the org `callerOrg` acting on an app owned by `ownerOrg`. */
export function subjectMatchesOrg(subject: string, callerOrg: string, ownerOrg: string): boolean {
  if (subject === APP_OWNER_SUBJECT) return callerOrg === ownerOrg;
  return subject.startsWith(ORG_SUBJECT_PREFIX) && subject.slice(ORG_SUBJECT_PREFIX.length) === callerOrg;
}
