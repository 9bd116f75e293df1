import { JsonObject, JsonSyntaxError, type JsonValue, parseJsonKeepingMembers } from './json-members.js';

/**
 * The one reader of `POST decision` bodies. It binds a body the way Altinn's Authorization binds it
 * (System.Text.Json into `XacmlJsonRequestRoot` with `PropertyNameCaseInsensitive`): member names in any casing,
 * lists only as JSON arrays, strings only as strings. Everything downstream (the self-only and own-org guards, the
 * PDP) reads the normalised request it produces and nothing else, so no spelling of a body reaches one of them in a
 * shape the other did not see. Where Altinn would silently take the last of two members differing only in case,
 * this refuses the body: such a body is ambiguous.
 */

/** XACML category identifiers of the three lists a decision request uses. */
export const CATEGORY_IDS = {
  accessSubject: 'urn:oasis:names:tc:xacml:1.0:subject-category:access-subject',
  action: 'urn:oasis:names:tc:xacml:3.0:attribute-category:action',
  resource: 'urn:oasis:names:tc:xacml:3.0:attribute-category:resource',
} as const;

/** One attribute of a category, normalised. */
export interface XacmlAttribute {
  attributeId: string;
  value: string;
  dataType: string | undefined;
  issuer: string | undefined;
  includeInResult: boolean;
}

/** One category (an AccessSubject, Action or Resource), normalised. */
export interface XacmlCategory {
  id: string | undefined;
  attributes: XacmlAttribute[];
}

/** A decision request, normalised: what every guard and the PDP read. */
export interface XacmlRequest {
  accessSubject: XacmlCategory[];
  action: XacmlCategory[];
  resource: XacmlCategory[];
  /** Each `MultiRequests.RequestReference`'s `ReferenceId` list; empty when the request is a single one. */
  multiRequests: string[][];
  /** How the caller spelled the root member (`request` or `Request`): the answer is written the same way. */
  style: 'camel' | 'pascal';
}

/** A body that does not bind: answered 400, naming `path`. */
export class XacmlBindingError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
    this.name = 'XacmlBindingError';
  }
}

type Reader = (value: JsonValue, path: string) => unknown;

/**
 * The members of `object` named in `names` (matched ignoring case), keyed by their canonical name. Two members
 * naming one of them (`userId` and `UserID`, or the same name twice) make the body ambiguous: refused. Members not
 * named are ignored, as System.Text.Json ignores unknown members.
 */
function membersOf(object: JsonObject, names: readonly string[], path: string): Map<string, JsonValue> {
  const canonical = new Map(names.map((name) => [name.toLowerCase(), name]));
  const found = new Map<string, JsonValue>();
  for (const [name, value] of object.members) {
    const known = canonical.get(name.toLowerCase());
    if (known === undefined) continue;
    if (found.has(known)) {
      throw new XacmlBindingError(
        `${path}.${known}`,
        'is given more than once (member names are matched ignoring case)',
      );
    }
    found.set(known, value);
  }
  return found;
}

const typeOf = (value: JsonValue): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : value instanceof JsonObject
        ? 'an object'
        : typeof value;

function objectAt(value: JsonValue, path: string): JsonObject {
  if (!(value instanceof JsonObject)) throw new XacmlBindingError(path, `must be an object, got ${typeOf(value)}`);
  return value;
}

function listAt<T>(value: JsonValue | undefined, path: string, item: (value: JsonValue, path: string) => T): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new XacmlBindingError(path, `must be an array, got ${typeOf(value)} (a single object is not a list here)`);
  }
  return value.map((entry, index) => item(entry, `${path}[${index}]`));
}

function stringAt(value: JsonValue | undefined, path: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new XacmlBindingError(path, `must be a string, got ${typeOf(value)}`);
  return value;
}

function booleanAt(value: JsonValue | undefined, path: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new XacmlBindingError(path, `must be true or false, got ${typeOf(value)}`);
  return value;
}

const readAttribute: Reader = (value, path): XacmlAttribute => {
  const members = membersOf(
    objectAt(value, path),
    ['AttributeId', 'Value', 'Issuer', 'DataType', 'IncludeInResult'],
    path,
  );
  const attributeId = stringAt(members.get('AttributeId'), `${path}.AttributeId`);
  if (attributeId === undefined) throw new XacmlBindingError(`${path}.AttributeId`, 'is required');
  const attributeValue = stringAt(members.get('Value'), `${path}.Value`);
  if (attributeValue === undefined) throw new XacmlBindingError(`${path}.Value`, 'is required');
  return {
    attributeId,
    value: attributeValue,
    dataType: stringAt(members.get('DataType'), `${path}.DataType`),
    issuer: stringAt(members.get('Issuer'), `${path}.Issuer`),
    includeInResult: booleanAt(members.get('IncludeInResult'), `${path}.IncludeInResult`),
  };
};

function categoryReader(categoryId: string) {
  return (value: JsonValue, path: string): XacmlCategory => {
    const members = membersOf(objectAt(value, path), ['CategoryId', 'Id', 'Content', 'Attribute'], path);
    // A category may name its own category id; one naming another list's would move its attributes there.
    const named = stringAt(members.get('CategoryId'), `${path}.CategoryId`);
    if (named !== undefined && named !== '' && named !== categoryId) {
      throw new XacmlBindingError(`${path}.CategoryId`, `must be ${categoryId} in this list, or absent`);
    }
    if (stringAt(members.get('Content'), `${path}.Content`) !== undefined) {
      throw new XacmlBindingError(`${path}.Content`, 'is not supported (XML content in a JSON request)');
    }
    return {
      id: stringAt(members.get('Id'), `${path}.Id`),
      attributes: listAt(members.get('Attribute'), `${path}.Attribute`, readAttribute as never) as XacmlAttribute[],
    };
  };
}

const UNSUPPORTED_LISTS = ['Category', 'RecipientSubject', 'IntermediarySubject', 'RequestingMachine'] as const;

function readRequest(value: JsonValue, path: string, style: XacmlRequest['style']): XacmlRequest {
  const members = membersOf(
    objectAt(value, path),
    [
      'ReturnPolicyIdList',
      'CombinedDecision',
      'XPathVersion',
      'AccessSubject',
      'Action',
      'Resource',
      'MultiRequests',
      ...UNSUPPORTED_LISTS,
    ],
    path,
  );
  booleanAt(members.get('ReturnPolicyIdList'), `${path}.ReturnPolicyIdList`);
  booleanAt(members.get('CombinedDecision'), `${path}.CombinedDecision`);
  stringAt(members.get('XPathVersion'), `${path}.XPathVersion`);
  for (const name of UNSUPPORTED_LISTS) {
    // Attributes in these lists are not evaluated here; refusing them keeps a subject from hiding in one.
    if (listAt(members.get(name), `${path}.${name}`, objectAt).length > 0) {
      throw new XacmlBindingError(`${path}.${name}`, 'is not supported; use AccessSubject, Action and Resource');
    }
  }
  const multi = members.get('MultiRequests');
  let multiRequests: string[][] = [];
  if (multi !== undefined && multi !== null) {
    const multiPath = `${path}.MultiRequests`;
    const references = membersOf(objectAt(multi, multiPath), ['RequestReference'], multiPath);
    multiRequests = listAt(references.get('RequestReference'), `${multiPath}.RequestReference`, (reference, at) => {
      const ids = membersOf(objectAt(reference, at), ['ReferenceId'], at);
      return listAt(ids.get('ReferenceId'), `${at}.ReferenceId`, (id, idPath) => {
        const text = stringAt(id, idPath);
        if (text === undefined) throw new XacmlBindingError(idPath, 'must be a string');
        return text;
      });
    });
  }
  return {
    accessSubject: listAt(
      members.get('AccessSubject'),
      `${path}.AccessSubject`,
      categoryReader(CATEGORY_IDS.accessSubject),
    ),
    action: listAt(members.get('Action'), `${path}.Action`, categoryReader(CATEGORY_IDS.action)),
    resource: listAt(members.get('Resource'), `${path}.Resource`, categoryReader(CATEGORY_IDS.resource)),
    multiRequests,
    style,
  };
}

/**
 * Binds the text of a `POST decision` body into the normalised request; throws XacmlBindingError (a 400) for text
 * that is not JSON, is ambiguous, or does not bind to Altinn's XacmlJsonRequestRoot.
 */
export function bindXacmlRequest(text: string): XacmlRequest {
  let root: JsonValue;
  try {
    root = parseJsonKeepingMembers(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new XacmlBindingError('body', `is not JSON: ${error.message}`);
    throw error;
  }
  const rootObject = objectAt(root, 'body');
  const members = membersOf(rootObject, ['Request'], 'body');
  const request = members.get('Request');
  if (request === undefined || request === null) throw new XacmlBindingError('body.Request', 'is required');
  const spelled = rootObject.members.find(([name]) => name.toLowerCase() === 'request')?.[0];
  return readRequest(request, 'body.Request', spelled === 'Request' ? 'pascal' : 'camel');
}

/** The single value of `attributeId` in `category`, every value when it is given more than once. */
export function valuesOf(category: XacmlCategory, attributeId: string): string[] {
  return category.attributes.filter((attribute) => attribute.attributeId === attributeId).map((a) => a.value);
}
