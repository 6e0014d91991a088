/**
 * Splits a DynamoDB expression into tokens: names, `#name` and `:value` placeholders, list indexes
 * and punctuation; anything else is a syntax error with DynamoDB's message.
 */
import { ModelValidationError } from './model-validation-error';

export type TokenKind = 'name' | 'namePlaceholder' | 'valuePlaceholder' | 'number' | 'punct' | 'end';
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly offset: number;
}

const PUNCTUATION = ['<>', '<=', '>=', '(', ')', '[', ']', ',', '.', '=', '<', '>', '+', '-'];

export function tokenize(expression: string, what: string): Token[] {
  const tokens: Token[] = [];
  let offset = 0;
  while (offset < expression.length) {
    const rest = expression.slice(offset);
    const space = /^\s+/.exec(rest);
    if (space) {
      offset += space[0].length;
      continue;
    }
    const match =
      /^#[A-Za-z0-9_]+/.exec(rest) ??
      /^:[A-Za-z0-9_]+/.exec(rest) ??
      /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ??
      /^\d+/.exec(rest);
    if (match) {
      const text = match[0];
      const kind: TokenKind = text.startsWith('#')
        ? 'namePlaceholder'
        : text.startsWith(':')
          ? 'valuePlaceholder'
          : /^\d/.test(text)
            ? 'number'
            : 'name';
      tokens.push({ kind, text, offset });
      offset += text.length;
      continue;
    }
    const punct = PUNCTUATION.find((candidate) => rest.startsWith(candidate));
    if (!punct) throw syntaxError(what, expression, rest[0]!, offset);
    tokens.push({ kind: 'punct', text: punct, offset });
    offset += punct.length;
  }
  tokens.push({ kind: 'end', text: '<EOF>', offset });
  return tokens;
}

export function syntaxError(
  what: string,
  expression: string,
  token: string,
  offset: number,
): ModelValidationError {
  const near = expression.slice(Math.max(0, offset - 10), offset + 10);
  return new ModelValidationError(`Invalid ${what}: Syntax error; token: "${token}", near: "${near}"`);
}
