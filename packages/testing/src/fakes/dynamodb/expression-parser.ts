/**
 * Parses DynamoDB expressions (condition, filter, key condition, update and projection) into small
 * trees, resolving `#name` and `:value` placeholders and recording which ones were used, so unused
 * or undefined placeholders are refused exactly as DynamoDB refuses them.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type AttributeMap, validateValue } from './attribute-value';
import { ModelValidationError } from './model-validation-error';
import { isReservedWord } from './reserved-words';

/** One step of a document path: an attribute or map member name, or a list index. */
export type PathElement =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number };
/** A document path, e.g. `a.b[2]`. */
export type Path = readonly PathElement[];

/** An operand of a condition. */
export type Operand =
  | { readonly kind: 'path'; readonly path: Path }
  | { readonly kind: 'value'; readonly value: AttributeValue }
  | { readonly kind: 'size'; readonly path: Path };

/** Comparison operators. */
export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** The functions usable as conditions. */
export type ConditionFunction =
  | 'attribute_exists'
  | 'attribute_not_exists'
  | 'attribute_type'
  | 'begins_with'
  | 'contains';

/** A condition (ConditionExpression, FilterExpression, KeyConditionExpression). */
export type Condition =
  | { readonly kind: 'compare'; readonly op: Comparator; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly value: Operand; readonly lower: Operand; readonly upper: Operand }
  | { readonly kind: 'in'; readonly value: Operand; readonly list: readonly Operand[] }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly operand: Condition }
  | { readonly kind: 'function'; readonly name: ConditionFunction; readonly args: readonly Operand[] };

/** The right-hand side of a `SET` action. */
export type UpdateValue =
  | { readonly kind: 'path'; readonly path: Path }
  | { readonly kind: 'value'; readonly value: AttributeValue }
  | { readonly kind: 'if_not_exists'; readonly path: Path; readonly fallback: UpdateValue }
  | { readonly kind: 'list_append'; readonly first: UpdateValue; readonly second: UpdateValue }
  | {
      readonly kind: 'arithmetic';
      readonly op: '+' | '-';
      readonly left: UpdateValue;
      readonly right: UpdateValue;
    };

/** One action of an update expression. */
export type UpdateAction =
  | { readonly kind: 'set'; readonly path: Path; readonly value: UpdateValue }
  | { readonly kind: 'remove'; readonly path: Path }
  | { readonly kind: 'add' | 'delete'; readonly path: Path; readonly value: AttributeValue };

/** The placeholders of one request and which of them its expressions used. */
export class Placeholders {
  readonly usedNames = new Set<string>();
  readonly usedValues = new Set<string>();
  readonly #names: Record<string, string> | undefined;
  readonly #values: AttributeMap | undefined;

  constructor(names: Record<string, string> | undefined, values: AttributeMap | undefined) {
    if (names !== undefined && Object.keys(names).length === 0) {
      throw new ModelValidationError('ExpressionAttributeNames must not be empty');
    }
    if (values !== undefined && Object.keys(values).length === 0) {
      throw new ModelValidationError('ExpressionAttributeValues must not be empty');
    }
    this.#names = names;
    this.#values = values;
  }

  /** The attribute name a `#name` placeholder stands for. */
  name(placeholder: string): string {
    const name =
      this.#names && Object.hasOwn(this.#names, placeholder) ? this.#names[placeholder] : undefined;
    if (name === undefined) {
      throw new ModelValidationError(
        `An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`,
      );
    }
    this.usedNames.add(placeholder);
    return name;
  }

  /** The (validated) value a `:value` placeholder stands for. */
  value(placeholder: string): AttributeValue {
    const value =
      this.#values && Object.hasOwn(this.#values, placeholder) ? this.#values[placeholder] : undefined;
    if (value === undefined) {
      throw new ModelValidationError(
        `An expression attribute value used in expression is not defined; attribute value: ${placeholder}`,
      );
    }
    this.usedValues.add(placeholder);
    return validateValue(value);
  }

  /** Refuses placeholders no expression of the request used (DynamoDB does). */
  checkAllUsed(): void {
    const unusedNames = Object.keys(this.#names ?? {}).filter((name) => !this.usedNames.has(name));
    if (unusedNames.length > 0) {
      throw new ModelValidationError(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(', ')}}`,
      );
    }
    const unusedValues = Object.keys(this.#values ?? {}).filter((name) => !this.usedValues.has(name));
    if (unusedValues.length > 0) {
      throw new ModelValidationError(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(', ')}}`,
      );
    }
  }
}

type TokenKind = 'name' | 'namePlaceholder' | 'valuePlaceholder' | 'number' | 'punct' | 'end';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly offset: number;
}

const PUNCTUATION = ['<>', '<=', '>=', '(', ')', '[', ']', ',', '.', '=', '<', '>', '+', '-'];

function tokenize(expression: string, what: string): Token[] {
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

function syntaxError(what: string, expression: string, token: string, offset: number): ModelValidationError {
  const near = expression.slice(Math.max(0, offset - 10), offset + 10);
  return new ModelValidationError(`Invalid ${what}: Syntax error; token: "${token}", near: "${near}"`);
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'BETWEEN', 'IN', 'SET', 'REMOVE', 'ADD', 'DELETE']);
const CONDITION_FUNCTIONS = new Set<string>([
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
]);
const COMPARATORS = new Set<string>(['=', '<>', '<', '<=', '>', '>=']);

/** A recursive-descent parser over one expression. */
class Parser {
  #position = 0;
  readonly #tokens: Token[];

  constructor(
    readonly expression: string,
    readonly what: string,
    readonly placeholders: Placeholders,
  ) {
    if (expression.trim() === '')
      throw new ModelValidationError(`Invalid ${what}: The expression can not be empty;`);
    this.#tokens = tokenize(expression, what);
  }

  get peek(): Token {
    return this.#tokens[this.#position]!;
  }

  next(): Token {
    const token = this.#tokens[this.#position]!;
    if (token.kind !== 'end') this.#position += 1;
    return token;
  }

  isKeyword(word: string): boolean {
    return this.peek.kind === 'name' && this.peek.text.toUpperCase() === word;
  }

  isPunct(text: string): boolean {
    return this.peek.kind === 'punct' && this.peek.text === text;
  }

  expectPunct(text: string): void {
    if (!this.isPunct(text)) this.fail();
    this.next();
  }

  fail(): never {
    throw syntaxError(this.what, this.expression, this.peek.text, this.peek.offset);
  }

  expectEnd(): void {
    if (this.peek.kind !== 'end') this.fail();
  }

  // ---- conditions ---------------------------------------------------------------------------

  condition(): Condition {
    let left = this.conjunction();
    while (this.isKeyword('OR')) {
      this.next();
      left = { kind: 'or', left, right: this.conjunction() };
    }
    return left;
  }

  conjunction(): Condition {
    let left = this.negation();
    while (this.isKeyword('AND')) {
      this.next();
      left = { kind: 'and', left, right: this.negation() };
    }
    return left;
  }

  negation(): Condition {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', operand: this.negation() };
    }
    return this.primary();
  }

  primary(): Condition {
    if (this.isPunct('(')) {
      this.next();
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const token = this.peek;
    const following = this.#tokens[this.#position + 1];
    if (
      token.kind === 'name' &&
      following?.kind === 'punct' &&
      following.text === '(' &&
      CONDITION_FUNCTIONS.has(token.text)
    ) {
      return this.conditionFunction();
    }
    const left = this.operand();
    if (this.isKeyword('BETWEEN')) {
      this.next();
      const lower = this.operand();
      if (!this.isKeyword('AND')) this.fail();
      this.next();
      return { kind: 'between', value: left, lower, upper: this.operand() };
    }
    if (this.isKeyword('IN')) {
      this.next();
      this.expectPunct('(');
      const list = [this.operand()];
      while (this.isPunct(',')) {
        this.next();
        list.push(this.operand());
      }
      this.expectPunct(')');
      if (list.length > 100) {
        throw new ModelValidationError(
          `Invalid ${this.what}: The IN operator is provided with too many operands; number of operands: ${list.length}`,
        );
      }
      return { kind: 'in', value: left, list };
    }
    if (this.peek.kind === 'punct' && COMPARATORS.has(this.peek.text)) {
      const op = this.next().text as Comparator;
      return { kind: 'compare', op, left, right: this.operand() };
    }
    return this.fail();
  }

  conditionFunction(): Condition {
    const name = this.next().text as ConditionFunction;
    this.expectPunct('(');
    const args = [this.operand()];
    while (this.isPunct(',')) {
      this.next();
      args.push(this.operand());
    }
    this.expectPunct(')');
    const arity = name === 'attribute_exists' || name === 'attribute_not_exists' ? 1 : 2;
    if (args.length !== arity) {
      throw new ModelValidationError(
        `Invalid ${this.what}: Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
      );
    }
    if (args[0]!.kind !== 'path') {
      throw new ModelValidationError(
        `Invalid ${this.what}: Operator or function requires a document path; operator or function: ${name}`,
      );
    }
    return { kind: 'function', name, args };
  }

  operand(): Operand {
    const token = this.peek;
    if (token.kind === 'valuePlaceholder') {
      this.next();
      return { kind: 'value', value: this.placeholders.value(token.text) };
    }
    if (token.kind === 'name' && token.text === 'size' && this.#tokens[this.#position + 1]?.text === '(') {
      this.next();
      this.expectPunct('(');
      const path = this.path();
      this.expectPunct(')');
      return { kind: 'size', path };
    }
    return { kind: 'path', path: this.path() };
  }

  // ---- paths --------------------------------------------------------------------------------

  path(): Path {
    const elements: PathElement[] = [{ kind: 'name', name: this.pathName() }];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        elements.push({ kind: 'name', name: this.pathName() });
      } else if (this.isPunct('[')) {
        this.next();
        const index = this.next();
        if (index.kind !== 'number') this.fail();
        this.expectPunct(']');
        elements.push({ kind: 'index', index: Number(index.text) });
      } else {
        return elements;
      }
    }
  }

  pathName(): string {
    const token = this.peek;
    if (token.kind === 'namePlaceholder') {
      this.next();
      return this.placeholders.name(token.text);
    }
    if (token.kind === 'name' && !KEYWORDS.has(token.text.toUpperCase())) {
      if (isReservedWord(token.text)) {
        throw new ModelValidationError(
          `Invalid ${this.what}: Attribute name is a reserved keyword; reserved keyword: ${token.text}`,
        );
      }
      this.next();
      return token.text;
    }
    return this.fail();
  }

  // ---- updates ------------------------------------------------------------------------------

  update(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const clauses = new Set<string>();
    while (this.peek.kind !== 'end') {
      const clause = this.peek.kind === 'name' ? this.peek.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(clause)) this.fail();
      if (clauses.has(clause)) {
        throw new ModelValidationError(
          `Invalid ${this.what}: The "${clause}" section can only be used once in an update expression;`,
        );
      }
      clauses.add(clause);
      this.next();
      do {
        if (actions.length > 0 && this.isPunct(',')) this.next();
        actions.push(this.updateAction(clause));
      } while (this.isPunct(','));
    }
    if (actions.length === 0) this.fail();
    return actions;
  }

  updateAction(clause: string): UpdateAction {
    const path = this.path();
    if (clause === 'REMOVE') return { kind: 'remove', path };
    if (clause === 'SET') {
      this.expectPunct('=');
      return { kind: 'set', path, value: this.setValue() };
    }
    const token = this.next();
    if (token.kind !== 'valuePlaceholder') this.fail();
    return { kind: clause === 'ADD' ? 'add' : 'delete', path, value: this.placeholders.value(token.text) };
  }

  setValue(): UpdateValue {
    const left = this.setOperand();
    if (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next().text as '+' | '-';
      return { kind: 'arithmetic', op, left, right: this.setOperand() };
    }
    return left;
  }

  setOperand(): UpdateValue {
    const token = this.peek;
    if (token.kind === 'valuePlaceholder') {
      this.next();
      return { kind: 'value', value: this.placeholders.value(token.text) };
    }
    const following = this.#tokens[this.#position + 1];
    if (token.kind === 'name' && following?.text === '(') {
      if (token.text === 'if_not_exists') {
        this.next();
        this.expectPunct('(');
        const path = this.path();
        this.expectPunct(',');
        const fallback = this.setOperand();
        this.expectPunct(')');
        return { kind: 'if_not_exists', path, fallback };
      }
      if (token.text === 'list_append') {
        this.next();
        this.expectPunct('(');
        const first = this.setOperand();
        this.expectPunct(',');
        const second = this.setOperand();
        this.expectPunct(')');
        return { kind: 'list_append', first, second };
      }
      throw new ModelValidationError(`Invalid ${this.what}: Invalid function name; function: ${token.text}`);
    }
    return { kind: 'path', path: this.path() };
  }

  projection(): Path[] {
    const paths = [this.path()];
    while (this.isPunct(',')) {
      this.next();
      paths.push(this.path());
    }
    return paths;
  }
}

/** Parses a ConditionExpression, FilterExpression or KeyConditionExpression. */
export function parseCondition(expression: string, what: string, placeholders: Placeholders): Condition {
  const parser = new Parser(expression, what, placeholders);
  const condition = parser.condition();
  parser.expectEnd();
  return condition;
}

/** Parses an UpdateExpression. */
export function parseUpdate(expression: string, placeholders: Placeholders): UpdateAction[] {
  const parser = new Parser(expression, 'UpdateExpression', placeholders);
  const actions = parser.update();
  parser.expectEnd();
  return actions;
}

/** Parses a ProjectionExpression. */
export function parseProjection(expression: string, placeholders: Placeholders): Path[] {
  const parser = new Parser(expression, 'ProjectionExpression', placeholders);
  const paths = parser.projection();
  parser.expectEnd();
  for (let i = 0; i < paths.length; i += 1) {
    for (let j = i + 1; j < paths.length; j += 1) {
      if (pathsOverlap(paths[i]!, paths[j]!)) {
        throw new ModelValidationError(
          `Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${describePath(paths[i]!)}, path two: ${describePath(paths[j]!)}`,
        );
      }
    }
  }
  return paths;
}

/** Whether one path is the other or lies inside it. */
export function pathsOverlap(a: Path, b: Path): boolean {
  const shorter = a.length <= b.length ? a : b;
  const longer = shorter === a ? b : a;
  return shorter.every((element, index) => {
    const other = longer[index]!;
    if (element.kind === 'name') return other.kind === 'name' && other.name === element.name;
    return other.kind === 'index' && other.index === element.index;
  });
}

/** A path as DynamoDB prints it in messages: `[a, b, [2]]`. */
export function describePath(path: Path): string {
  return `[${path.map((element) => (element.kind === 'name' ? element.name : `[${element.index}]`)).join(', ')}]`;
}
