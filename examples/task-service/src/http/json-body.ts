import {
  BodyTooLargeError,
  MalformedJsonError,
  RequestValidationError,
  UnsupportedMediaTypeError,
} from '../errors';
import { type HttpRequest, MAX_BODY_BYTES } from './types';

/**
 * `application/json`, or a structured syntax suffix `application/<name>+json` (RFC 6839), with
 * optional parameters. Type and subtype are tokens (RFC 9110), compared case-insensitively.
 */
const JSON_MEDIA_TYPE = /^application\/(?:json|[!#$%&'*+.^_`|~0-9a-z-]+\+json)$/i;

/**
 * Reads a request body as JSON, or throws the typed error the API answers with:
 * - 413 `BODY_TOO_LARGE` over {@link MAX_BODY_BYTES} (whatever the transport let through);
 * - 415 `MEDIA_TYPE_UNSUPPORTED` for a body whose `Content-Type` is not JSON, names a charset other
 *   than UTF-8, or is missing (a body of unknown type is not guessed at);
 * - 400 `JSON_MALFORMED` for text that is not JSON, and `REQUEST_INVALID` for an object with the
 *   same key twice (parsers disagree on which one wins, so neither is taken).
 *
 * An absent or empty body reads as `undefined` (the caller decides whether that is allowed).
 *
 * @example
 * ```ts
 * const value = readJsonBody({ method: 'POST', path: '/tasks', headers, body: '{"name":"x"}' });
 * ```
 */
export function readJsonBody(request: HttpRequest): unknown {
  const { body } = request;
  if (body === undefined || body === '') return undefined;
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) throw new BodyTooLargeError(MAX_BODY_BYTES);
  assertJsonContentType(request.headers['content-type']);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new MalformedJsonError(error);
  }
  const duplicate = findDuplicateKey(body);
  if (duplicate !== undefined) {
    throw new RequestValidationError('The request body has the same key twice in one object', [
      {
        path: duplicate.path,
        message: `duplicate key ${JSON.stringify(duplicate.key)}`,
        code: 'duplicate_key',
      },
    ]);
  }
  return value;
}

/**
 * Throws {@link UnsupportedMediaTypeError} unless `value` is a JSON media type whose charset, if
 * given, is UTF-8.
 *
 * @example
 * ```ts
 * assertJsonContentType('application/json; charset=utf-8'); // passes
 * assertJsonContentType('text/plain'); // throws (415)
 * ```
 */
export function assertJsonContentType(value: string | undefined): void {
  if (value === undefined || value.trim() === '') {
    throw new UnsupportedMediaTypeError(value, 'the request has a body but no Content-Type');
  }
  const [type = '', ...parameters] = value.split(';');
  if (!JSON_MEDIA_TYPE.test(type.trim())) {
    throw new UnsupportedMediaTypeError(value, `${JSON.stringify(type.trim())} is not a JSON media type`);
  }
  for (const parameter of parameters) {
    const separator = parameter.indexOf('=');
    if (separator < 0) continue;
    const name = parameter.slice(0, separator).trim().toLowerCase();
    const raw = parameter.slice(separator + 1).trim();
    const unquoted = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    if (name === 'charset' && unquoted.toLowerCase() !== 'utf-8') {
      throw new UnsupportedMediaTypeError(
        value,
        `the charset must be utf-8, not ${JSON.stringify(unquoted)}`,
      );
    }
  }
}

/** One level of the JSON text being scanned. */
type Frame =
  | {
      readonly kind: 'object';
      readonly path: string;
      readonly keys: Set<string>;
      expectKey: boolean;
      key: string;
    }
  | { readonly kind: 'array'; readonly path: string; index: number };

/**
 * The first key that appears twice in one object of a JSON text, with the path of that object,
 * or `undefined`. `text` must be valid JSON (it is scanned without recursion, so any depth is
 * fine).
 *
 * @example
 * ```ts
 * findDuplicateKey('{"a":1,"a":2}'); // { key: 'a', path: '' }
 * ```
 */
export function findDuplicateKey(text: string): { key: string; path: string } | undefined {
  const stack: Frame[] = [];
  const childPath = (): string => {
    const parent = stack.at(-1);
    if (parent === undefined) return '';
    const segment = parent.kind === 'object' ? parent.key : String(parent.index);
    return parent.path === '' ? segment : `${parent.path}.${segment}`;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{') {
      stack.push({ kind: 'object', path: childPath(), keys: new Set(), expectKey: true, key: '' });
    } else if (char === '[') {
      stack.push({ kind: 'array', path: childPath(), index: 0 });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'object') top.expectKey = true;
      else if (top?.kind === 'array') top.index++;
    } else if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { key, path: top.path };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}
