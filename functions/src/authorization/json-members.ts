/**
 * A JSON reader that keeps every member of every object, in order, duplicates included. `JSON.parse` keeps only the
 * last of two members with one name, so a binder reading its result cannot see (and refuse) a body that names a
 * member twice; the decision request's binder must.
 */

/** A JSON value with objects as their member lists. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** A JSON object: its members as written, duplicates and order kept. */
export class JsonObject {
  constructor(readonly members: readonly (readonly [string, JsonValue])[]) {}
}

/** Thrown for text that is not JSON; `position` is the offset where reading failed. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at offset ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Deepest nesting accepted: far beyond any decision request, and well inside the call stack. */
const MAX_DEPTH = 64;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITE_SPACE = /[ \t\n\r]*/y;

/** Reads `text` as one JSON value (RFC 8259), keeping every object member; throws JsonSyntaxError. */
export function parseJsonKeepingMembers(text: string): JsonValue {
  let at = 0;

  const skip = () => {
    WHITE_SPACE.lastIndex = at;
    WHITE_SPACE.exec(text);
    at = WHITE_SPACE.lastIndex;
  };
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, at);
  };

  const string = (): string => {
    const start = at;
    at += 1;
    for (;;) {
      const code = text.charCodeAt(at);
      if (Number.isNaN(code)) fail('Unterminated string');
      if (code === 0x22) break;
      if (code < 0x20) fail('Control character in string');
      at += code === 0x5c ? 2 : 1;
    }
    at += 1;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      return fail('Bad escape in string');
    }
  };

  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail(`Nesting deeper than ${MAX_DEPTH}`);
    skip();
    const char = text[at];
    if (char === '{') {
      at += 1;
      const members: [string, JsonValue][] = [];
      skip();
      if (text[at] === '}') {
        at += 1;
        return new JsonObject(members);
      }
      for (;;) {
        skip();
        if (text[at] !== '"') fail('Expected a member name');
        const name = string();
        skip();
        if (text[at] !== ':') fail("Expected ':'");
        at += 1;
        members.push([name, value(depth + 1)]);
        skip();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === '}') {
          at += 1;
          return new JsonObject(members);
        }
        fail("Expected ',' or '}'");
      }
    }
    if (char === '[') {
      at += 1;
      const items: JsonValue[] = [];
      skip();
      if (text[at] === ']') {
        at += 1;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === ']') {
          at += 1;
          return items;
        }
        fail("Expected ',' or ']'");
      }
    }
    if (char === '"') return string();
    for (const [literal, meaning] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return meaning;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (number) {
      at = NUMBER.lastIndex;
      return Number(number[0]);
    }
    return fail('Unexpected character');
  };

  const result = value(0);
  skip();
  if (at !== text.length) fail('Unexpected text after the value');
  return result;
}
