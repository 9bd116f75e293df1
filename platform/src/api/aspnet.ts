import { z } from '@hono/zod-openapi';

/**
 * Query values as ASP.NET Core's model binding reads them, so that calls built by .NET clients (Altinn's app
 * library formats `bool` as `True`/`False`) bind here as they bind in Altinn.
 */

/** `bool.Parse` semantics: `true`/`false` in any casing, surrounding white space ignored. */
export function parseAspNetBoolean(value: string): boolean | undefined {
  const normalized = value.trim().toLowerCase();
  if (normalized === 'true') return true;
  if (normalized === 'false') return false;
  return undefined;
}

/** A query parameter bound as a .NET `bool`: `True`, `false`, `TRUE` ...; anything else is a 400 naming it. */
export const aspNetBoolean = z
  .string()
  .transform((value, ctx) => {
    const parsed = parseAspNetBoolean(value);
    if (parsed === undefined) {
      ctx.addIssue({ code: 'custom', message: `'${value}' is not a valid boolean (true or false)` });
      return z.NEVER;
    }
    return parsed;
  })
  .openapi({ type: 'boolean', example: true });

/**
 * A query parameter bound as a .NET enum: matched case-insensitively against `values` (ASP.NET's enum binding
 * ignores case), answered in the canonical spelling given.
 */
export function aspNetEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const byLower = new Map(values.map((value) => [value.toLowerCase(), value]));
  return z
    .string()
    .transform((value, ctx) => {
      const canonical = byLower.get(value.trim().toLowerCase());
      if (canonical === undefined) {
        ctx.addIssue({ code: 'custom', message: `'${value}' is not one of ${values.join(', ')}` });
        return z.NEVER;
      }
      return canonical as T[number];
    })
    .openapi({ type: 'string', enum: [...values] });
}

/**
 * Looks a query parameter up by name the way ASP.NET does: case-insensitively (`userId`, `userid` and `USERID`
 * are one parameter). Returns every value of the first casing found, in order.
 */
export function queryValuesIgnoringCase(url: URL, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of url.searchParams) if (key.toLowerCase() === wanted) values.push(value);
  return values;
}
