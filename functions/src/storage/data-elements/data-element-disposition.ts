import { invalidField } from '../shared/problems.js';

// Content-Disposition (RFC 6266) and parameterised header values (RFC 9110 section 5.6.6), and the rules a
// data element's filename must follow.

/** A header value with parameters, e.g. `attachment; filename="a.txt"` or `multipart/form-data; boundary=x`. */
export interface ParameterizedValue {
  /** The value before the first `;`, lower case (`attachment`, `multipart/form-data`). */
  value: string;
  /** The parameters by lower-case name; quoted strings unquoted. */
  params: Map<string, string>;
}

/** Longest filename a data element may have, in characters. */
export const MAX_FILENAME_LENGTH = 255;

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const VALUE = /[!#$%&'*+.^_`|~0-9A-Za-z/-]+/y;
const OWS = /[ \t]*/y;

/** Reads `pattern` (a sticky regex) at `at`; answers the match and the position after it. */
function take(pattern: RegExp, text: string, at: number): [string, number] {
  pattern.lastIndex = at;
  const match = pattern.exec(text);
  return match ? [match[0], at + match[0].length] : ['', at];
}

/** Reads a quoted-string starting at the `"` at `at`; answers its unescaped text and the position after it. */
function quoted(text: string, at: number): [string, number] | undefined {
  let result = '';
  for (let i = at + 1; i < text.length; i++) {
    const char = text[i];
    if (char === '"') return [result, i + 1];
    if (char === '\\') {
      i++;
      if (i >= text.length) return undefined;
    }
    result += text[i];
  }
  return undefined;
}

/**
 * Parses `value *( OWS ";" OWS name "=" ( token / quoted-string ) )`; undefined when the text does not follow
 * that grammar or names a parameter twice (RFC 6266 section 4.1 calls such a header invalid).
 */
export function parseParameterized(header: string): ParameterizedValue | undefined {
  let [value, at] = take(VALUE, header, take(OWS, header, 0)[1]);
  if (!value) return undefined;
  const params = new Map<string, string>();
  for (;;) {
    at = take(OWS, header, at)[1];
    if (at >= header.length) return { value: value.toLowerCase(), params };
    if (header[at] !== ';') return undefined;
    at = take(OWS, header, at + 1)[1];
    if (at >= header.length) return { value: value.toLowerCase(), params };
    const [name, afterName] = take(TOKEN, header, at);
    if (!name) return undefined;
    at = take(OWS, header, afterName)[1];
    if (header[at] !== '=') return undefined;
    at = take(OWS, header, at + 1)[1];
    let text: string;
    if (header[at] === '"') {
      const read = quoted(header, at);
      if (!read) return undefined;
      [text, at] = read;
    } else {
      [text, at] = take(TOKEN, header, at);
      if (!text) return undefined;
    }
    const key = name.toLowerCase();
    if (params.has(key)) return undefined;
    params.set(key, text);
  }
}

/** Decodes an RFC 8187 ext-value (`UTF-8''s%C3%B8knad.txt`); undefined for a charset other than UTF-8/ISO-8859-1. */
function decodeExtValue(extValue: string, field: string): string | undefined {
  const match = /^([^']*)'[^']*'(.*)$/.exec(extValue);
  if (!match) throw invalidField(field, "filename* must be charset'language'percent-encoded-value");
  const [, charset = '', encoded = ''] = match;
  if (/%(?![0-9A-Fa-f]{2})/.test(encoded)) {
    throw invalidField(field, 'filename* is not valid percent-encoding');
  }
  switch (charset.toLowerCase()) {
    case 'utf-8':
      try {
        return decodeURIComponent(encoded);
      } catch {
        throw invalidField(field, 'filename* is not valid UTF-8');
      }
    case 'iso-8859-1':
      return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    default:
      // RFC 6266 section 4.3: a filename* in a charset the recipient does not know is ignored.
      return undefined;
  }
}

/**
 * Unicode bidirectional formatting characters (embeddings, overrides, isolates, marks): a right-to-left override
 * makes `invoice\u202Efdp.exe` show as `invoiceexe.pdf`. Altinn accepts such files, so they are removed, not refused.
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Answers `name` trimmed and without bidirectional formatting characters, or throws 400 naming `field` when it is
 * not a safe plain file name: empty, longer than 255 characters, holding control characters, a path (`/`, `\`) or
 * a path-traversal sequence (`..`).
 */
export function checkFilename(name: string, field: string): string {
  const trimmed = name.replace(BIDI_CONTROLS, '').trim();
  if (trimmed === '') throw invalidField(field, 'filename is empty');
  if ([...trimmed].length > MAX_FILENAME_LENGTH) {
    throw invalidField(field, `filename is longer than ${MAX_FILENAME_LENGTH} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) throw invalidField(field, 'filename holds control characters');
  if (/[/\\]/.test(trimmed) || trimmed.includes('..') || trimmed === '.') {
    throw invalidField(field, 'filename must be a plain file name, not a path');
  }
  return trimmed;
}

/**
 * The filename of a `Content-Disposition` header (`filename*=` preferred over `filename=`, RFC 6266), or null when
 * the header is absent or names no file. Throws 400 naming `field` for a malformed header or an unsafe name.
 */
export function filenameOf(header: string | undefined, field = 'Content-Disposition'): string | null {
  if (header === undefined) return null;
  const disposition = parseParameterized(header);
  if (!disposition || disposition.value.includes('/')) {
    throw invalidField(field, 'not a valid Content-Disposition (RFC 6266)');
  }
  const extended = disposition.params.get('filename*');
  const name =
    (extended === undefined ? undefined : decodeExtValue(extended, field)) ?? disposition.params.get('filename');
  return name === undefined ? null : checkFilename(name, field);
}

/** Percent-encodes `text` as UTF-8 leaving only RFC 8187 attr-chars (encodeURIComponent leaves `'()*!` too). */
function encodeExtValue(text: string): string {
  return encodeURIComponent(text).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The `Content-Disposition` header of a download of `filename`. */
export function contentDisposition(filename: string | null): string {
  if (!filename) return 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(filename)}`;
}
