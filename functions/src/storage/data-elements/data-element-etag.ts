import { createHash } from 'node:crypto';
import { Problem } from '../../../../platform/src/errors/index.js';
import type { DataElement } from '../models/data-element-schemas.js';

// ETags of data elements and the conditional requests on them (RFC 9110 sections 8.8.3 and 13.1).

/** JSON of `value` with object keys sorted, so one element serialises alike whatever key order the database answers. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The strong ETag of a data element, sent with its JSON and its content alike: a hash of every field, so it changes
 * whenever the element does (new content, which always gets a new blob, lock and unlock, any metadata), but
 * not with its `selfLinks`.
 */
export function etagOf(element: DataElement): string {
  // selfLinks are left out: they are derived from configured public URLs when answered, not the element's state.
  const { selfLinks: _links, ...state } = element;
  return `"${createHash('sha256').update(canonicalJson(state)).digest('base64url')}"`;
}

/** One entity tag of a conditional header. */
interface EntityTag {
  weak: boolean;
  /** The quoted opaque tag, e.g. `"abc"`. */
  opaque: string;
}

/** The tags an `If-Match` / `If-None-Match` header lists, or `*`; tags that are not well formed are left out. */
function parseTags(header: string): '*' | EntityTag[] {
  if (header.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  for (const match of header.matchAll(/(W\/)?("[\x21\x23-\x7e\x80-\xff]*")/g)) {
    tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? '' });
  }
  return tags;
}

/** 412: the element is not in the state the request's `If-Match` requires; answers its current ETag. */
function preconditionFailed(element: DataElement, etag: string): Problem {
  return new Problem(412, {
    kind: 'precondition-failed',
    detail: `Data element ${element.id} has changed: If-Match does not name its current ETag.`,
    headers: { ETag: etag },
  });
}

/**
 * Throws 412 unless `ifMatch` is absent, `*`, or names `element`'s ETag (strong comparison: weak tags never match).
 * Call it where the element was just read, inside the transaction that changes it.
 */
export function checkIfMatch(ifMatch: string | undefined, element: DataElement): void {
  if (ifMatch === undefined) return;
  const etag = etagOf(element);
  const tags = parseTags(ifMatch);
  if (tags === '*' || tags.some((tag) => !tag.weak && tag.opaque === etag)) return;
  throw preconditionFailed(element, etag);
}

/** True when `ifNoneMatch` is `*` or names `etag` (weak comparison), so a GET may answer 304. */
export function isNotModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const tags = parseTags(ifNoneMatch);
  return tags === '*' || tags.some((tag) => tag.opaque === etag);
}
