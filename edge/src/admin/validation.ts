import type { Context } from 'hono';
import type { z } from 'zod';
import type { EdgeEnv } from '../env';
import { type FieldError, Problem } from '../problem';
import { isDnsLabel } from '../routing/schema';

/** Throws a 400 problem listing `errors`, its detail naming each field. */
export function invalid(title: string, errors: FieldError[]): never {
  throw new Problem({
    status: 400,
    kind: 'validation-failed',
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

/** Parses the JSON body with `schema`: 415 when it is not JSON, 400 naming each bad field. */
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
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    invalid('Malformed JSON', [{ field: '(body)', detail: 'is not valid JSON' }]);
  }
  const result = schema.safeParse(json);
  if (!result.success) invalid('Invalid route', fieldErrors(result.error));
  return result.data;
}
