import { claimsOf } from './claims.js';
import type { PlatformLink } from './platform-link.js';

/** The four XACML decisions Authorization answers. */
export type Decision = 'Permit' | 'Deny' | 'NotApplicable' | 'Indeterminate';

/** What an app asks Authorization before it acts: who (the token's user or org), which action, on whose data. */
export interface DecisionQuestion {
  action: string;
  org: string;
  app: string;
  /** The party the instance belongs to. */
  partyId: string;
}

const attribute = (AttributeId: string, Value: unknown) => ({ AttributeId, Value: String(Value) });

/**
 * The XACML JSON request an Altinn app sends for `question`: the user (their id and own party) or
 * the org of `userToken` as subject, the action, and the app and instance owner's party as resource.
 */
export function decisionRequest(userToken: string, question: DecisionQuestion): Record<string, unknown> {
  const claims = claimsOf(userToken);
  const subject =
    claims['urn:altinn:userid'] !== undefined
      ? [
          attribute('urn:altinn:userid', claims['urn:altinn:userid']),
          ...(claims['urn:altinn:partyid'] === undefined
            ? []
            : [attribute('urn:altinn:partyid', claims['urn:altinn:partyid'])]),
        ]
      : [attribute('urn:altinn:org', claims['urn:altinn:org'] ?? '')];
  return {
    Request: {
      AccessSubject: [{ Attribute: subject }],
      Action: [{ Attribute: [attribute('urn:oasis:names:tc:xacml:1.0:action:action-id', question.action)] }],
      Resource: [
        {
          Attribute: [
            attribute('urn:altinn:org', question.org),
            attribute('urn:altinn:app', question.app),
            attribute('urn:altinn:partyid', question.partyId),
          ],
        },
      ],
    },
  };
}

/** Authorization's answer: the decision, and the HTTP status it came with (401: the user's token was refused). */
export interface DecisionAnswer {
  decision: Decision;
  status: number;
}

/**
 * Asks Authorization's `POST decision` about `question` for the caller of `userToken`, as the app
 * (its PlatformAccessToken beside the user's token). Answers the first result's decision; a refusal
 * of the question itself or an unreadable answer is `Indeterminate`, so the app never permits on doubt.
 */
export async function decide(
  link: PlatformLink,
  userToken: string,
  question: DecisionQuestion,
): Promise<DecisionAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' };
  const appToken = link.accessToken();
  if (appToken) headers.PlatformAccessToken = appToken;
  const response = await fetch(`${link.platformUrl}/authorization/api/v1/decision`, {
    method: 'POST',
    headers,
    body: JSON.stringify(decisionRequest(userToken, question)),
  });
  if (!response.ok) {
    await response.body?.cancel();
    return { decision: 'Indeterminate', status: response.status };
  }
  const body = (await response.json().catch(() => ({}))) as { Response?: { Decision?: Decision }[] };
  return { decision: body.Response?.[0]?.Decision ?? 'Indeterminate', status: response.status };
}
