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

/** A recursive-descent reader of one JSON text, at offset `at`. */
class MemberParser {
  at = 0;

  constructor(private readonly text: string) {}

  skip(): void {
    WHITE_SPACE.lastIndex = this.at;
    WHITE_SPACE.exec(this.text);
    this.at = WHITE_SPACE.lastIndex;
  }

  fail(message: string): never {
    throw new JsonSyntaxError(message, this.at);
  }

  string(): string {
    const { text } = this;
    const start = this.at;
    this.at += 1;
    for (;;) {
      const code = text.charCodeAt(this.at);
      if (Number.isNaN(code)) this.fail('Unterminated string');
      if (code === 0x22) break;
      if (code < 0x20) this.fail('Control character in string');
      this.at += code === 0x5c ? 2 : 1;
    }
    this.at += 1;
    try {
      return JSON.parse(text.slice(start, this.at)) as string;
    } catch {
      return this.fail('Bad escape in string');
    }
  }

  /** An object (at its `{`), with every member kept in order, duplicates too. */
  object(depth: number): JsonObject {
    const { text } = this;
    this.at += 1;
    const members: [string, JsonValue][] = [];
    this.skip();
    if (text[this.at] === '}') {
      this.at += 1;
      return new JsonObject(members);
    }
    for (;;) {
      this.skip();
      if (text[this.at] !== '"') this.fail('Expected a member name');
      const name = this.string();
      this.skip();
      if (text[this.at] !== ':') this.fail("Expected ':'");
      this.at += 1;
      members.push([name, this.value(depth + 1)]);
      this.skip();
      if (text[this.at] === ',') {
        this.at += 1;
        continue;
      }
      if (text[this.at] === '}') {
        this.at += 1;
        return new JsonObject(members);
      }
      this.fail("Expected ',' or '}'");
    }
  }

  /** An array (at its `[`). */
  array(depth: number): JsonValue[] {
    const { text } = this;
    this.at += 1;
    const items: JsonValue[] = [];
    this.skip();
    if (text[this.at] === ']') {
      this.at += 1;
      return items;
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skip();
      if (text[this.at] === ',') {
        this.at += 1;
        continue;
      }
      if (text[this.at] === ']') {
        this.at += 1;
        return items;
      }
      this.fail("Expected ',' or ']'");
    }
  }

  value(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`Nesting deeper than ${MAX_DEPTH}`);
    this.skip();
    const char = this.text[this.at];
    if (char === '{') return this.object(depth);
    if (char === '[') return this.array(depth);
    if (char === '"') return this.string();
    for (const [literal, meaning] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(literal, this.at)) {
        this.at += literal.length;
        return meaning;
      }
    }
    NUMBER.lastIndex = this.at;
    const number = NUMBER.exec(this.text);
    if (number) {
      this.at = NUMBER.lastIndex;
      return Number(number[0]);
    }
    return this.fail('Unexpected character');
  }
}

/** Reads `text` as one JSON value (RFC 8259), keeping every object member; throws JsonSyntaxError. */
export function parseJsonKeepingMembers(text: string): JsonValue {
  const parser = new MemberParser(text);
  const result = parser.value(0);
  parser.skip();
  if (parser.at !== text.length) parser.fail('Unexpected text after the value');
  return result;
}
