import type { Context } from 'hono';
import type { z } from 'zod';
import { jsonDepth, readBoundedText } from '../../../contracts/json-body';
import type { EdgeEnv } from '../env';
import { type FieldError, Problem } from '../problem';
import { isDnsLabel } from '../routing/schema';

/** Throws a 400 problem listing `errors`, its detail naming each field. */
export function invalid(title: string, errors: FieldError[]): never {
  throw new Problem({
    status: 400,
    kind: 'validation',
    title,
    detail: errors.map((e) => `${e.field}: ${e.detail}`).join('; '),
    errors,
  });
}

/** Checks that each named path parameter is a DNS-1123 label. */
export function requireDnsLabels(params: Record<string, string>): void {
  const errors: FieldError[] = [];
  for (const [field, value] of Object.entries(params)) {
    if (!isDnsLabel(value)) {
      errors.push({ field, detail: 'must be a DNS-1123 label: a-z, 0-9 and inner "-", at most 63 characters' });
    }
  }
  if (errors.length > 0) invalid('Invalid name', errors);
}

/** Turns zod issues into field errors; an unknown field is named as itself. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), detail: 'unknown field' }));
    }
    return [{ field: issue.path.length > 0 ? issue.path.join('.') : '(body)', detail: issue.message }];
  });
}

/** Largest JSON body the admin APIs read (routes, plans, consumers, egress targets and credentials are small). */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;
/** Deepest nesting of arrays and objects the admin APIs parse (their schemas need 4). */
export const MAX_JSON_DEPTH = 32;

function tooLarge(): never {
  throw new Problem({
    status: 413,
    kind: 'payload-too-large',
    title: 'Payload too large',
    detail: `The body is larger than ${MAX_ADMIN_BODY_BYTES} bytes.`,
  });
}

/** Reads the body as text, refusing (413) one that declares or streams more than the limit. */
async function boundedText(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > MAX_ADMIN_BODY_BYTES) {
    await request.body?.cancel();
    tooLarge();
  }
  if (request.body === null) return '';
  return readBoundedText(request.body, MAX_ADMIN_BODY_BYTES, tooLarge);
}

/** The deepest nesting of arrays and objects in JSON text (contracts/json-body.ts, shared with the Node side). */
export { jsonDepth };

/**
 * Parses the JSON body with `schema`: 415 when it is not JSON, 413 over `MAX_ADMIN_BODY_BYTES`
 * (declared or streamed), 400 when nested deeper than `MAX_JSON_DEPTH` (checked on the text, before
 * any recursive parse or validation), and 400 naming each bad field.
 */
export async function parseBody<S extends z.ZodType>(c: Context<EdgeEnv>, schema: S): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new Problem({
      status: 415,
      kind: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: 'Send the body as application/json.',
    });
  }
  const text = await boundedText(c.req.raw);
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    invalid('Malformed JSON', [{ field: '(body)', detail: `is nested deeper than ${MAX_JSON_DEPTH} levels` }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    invalid('Malformed JSON', [{ field: '(body)', detail: 'is not valid JSON' }]);
  }
  const result = schema.safeParse(json);
  if (!result.success) invalid('Invalid route', fieldErrors(result.error));
  return result.data;
}
