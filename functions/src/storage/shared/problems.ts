import { Problem } from '../../../../platform/src/errors/index.js';

/** 404: the app `org/app` has no metadata. */
export function applicationNotFound(org: string, app: string): Problem {
  return new Problem(404, { kind: 'not-found', detail: `Application ${org}/${app} does not exist.` });
}

/** 400: a body field contradicts the path (e.g. `id` names another app). */
export function mismatchedField(field: string, detail: string): Problem {
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid body: ${field} (${detail}).`,
    errors: [{ field, detail }],
  });
}

/** 400 naming one invalid input field (a header, query parameter or body part). */
export function invalidField(field: string, detail: string): Problem {
  return new Problem(400, {
    kind: 'validation',
    title: 'Invalid request',
    detail: `Invalid ${field} (${detail}).`,
    errors: [{ field, detail }],
  });
}

/** The problem+json body in Storage's OpenAPI description of its error answers: the platform's one. */
export { problemContent } from '../../../../platform/src/errors/openapi.js';

/** 404: no instance `{partyId}/{instanceGuid}` (or it is hard deleted). */
export function instanceNotFound(partyId: string, instanceGuid: string): Problem {
  return new Problem(404, { kind: 'not-found', detail: `Instance ${partyId}/${instanceGuid} does not exist.` });
}

/** 412: `If-Match` names none of the instance's current ETags, so the write was not done. */
export function instanceChanged(partyId: string, instanceGuid: string): Problem {
  return new Problem(412, {
    kind: 'precondition-failed',
    detail: `Instance ${partyId}/${instanceGuid} does not have the ETag named in If-Match; read it again and retry.`,
  });
}
