/**
 * Errors thrown by `@tidemark/cdk` while a stack is built (synth time). Every error is a
 * `TidemarkError` with a stable `code` and a `context` that names the construct.
 */
import { TidemarkError, type ValidationIssue } from '@tidemark/core';

/** The base class of the errors thrown by the constructs. */
export class TidemarkCdkError extends TidemarkError {
  constructor(code: string, message: string, context: Record<string, unknown>, options: ErrorOptions = {}) {
    super(code, message, { ...options, context });
    this.name = 'TidemarkCdkError';
  }
}

/**
 * A construct's properties are invalid (an unknown key, a value out of range, a wrong type): the
 * message lists every problem, `issues` holds them one by one.
 */
export class InvalidConstructPropsError extends TidemarkCdkError {
  /** Every problem found, not only the first. */
  readonly issues: readonly ValidationIssue[];

  constructor(construct: string, path: string, issues: readonly ValidationIssue[]) {
    super(
      'CDK_PROPS_INVALID',
      `${construct} ${path}: invalid properties: ${issues
        .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
        .join('; ')}`,
      { construct, path, issues },
    );
    this.name = 'InvalidConstructPropsError';
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * A combination the constructs cannot deploy correctly, e.g. enhanced fan-out on a stream in
 * another account (the stream's owner registers stream consumers, not the listener's stack).
 */
export class UnsupportedTopologyError extends TidemarkCdkError {
  constructor(construct: string, path: string, message: string, context: Record<string, unknown> = {}) {
    super('CDK_TOPOLOGY_UNSUPPORTED', `${construct} ${path}: ${message}`, { construct, path, ...context });
    this.name = 'UnsupportedTopologyError';
  }
}
