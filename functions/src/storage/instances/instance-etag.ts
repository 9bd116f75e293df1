import { z } from '@hono/zod-openapi';

/** The strong ETag of an instance at row version `version` (see VersionedInstance). */
export function instanceEtag(version: string): string {
  return `"${version}"`;
}

const ENTITY_TAG = /(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g;

/** The entity tags of an `If-Match` / `If-None-Match` value, or `'*'`; malformed parts are left out. */
function entityTags(header: string): '*' | { weak: boolean; tag: string }[] {
  if (header.trim() === '*') return '*';
  return [...header.matchAll(ENTITY_TAG)].map((match) => ({ weak: Boolean(match[1]), tag: `"${match[2]}"` }));
}

/**
 * Whether `If-Match: header` holds for a resource whose current ETag is `etag` (RFC 9110 13.1.1): `*` holds for
 * any existing resource, else one listed tag must equal it by strong comparison (a weak tag never matches).
 */
export function ifMatchHolds(header: string, etag: string): boolean {
  const tags = entityTags(header);
  return tags === '*' || tags.some((candidate) => !candidate.weak && candidate.tag === etag);
}

/**
 * Whether `If-None-Match: header` fails (the client's copy is current) for a resource whose ETag is `etag`
 * (RFC 9110 13.1.2): `*`, or one listed tag equal to it by weak comparison.
 */
export function ifNoneMatchFails(header: string, etag: string): boolean {
  const tags = entityTags(header);
  return tags === '*' || tags.some((candidate) => candidate.tag === etag);
}

/** The `If-Match` request header of a conditional instance write. */
export const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .optional()
    .openapi({ description: 'Write only when the instance still has one of these ETags (or `*`); else 412' }),
});

/** The `If-None-Match` request header of a conditional instance read. */
export const IfNoneMatchHeaders = z.object({
  'if-none-match': z
    .string()
    .optional()
    .openapi({ description: 'Answer 304 without a body when the instance still has one of these ETags' }),
});
