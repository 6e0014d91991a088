/**
 * Errors thrown by `@tidemark/cdk` while a stack is built (synth time). Every error is a
 * `TidemarkError` with a stable `code` and a `context` that names the construct; invalid properties
 * are core's one `ConfigurationError`, as bad options are in every other Tidemark package.
 */
import { ConfigurationError, TidemarkError, type ValidationIssue } from '@tidemark/core';

/** The base class of the errors thrown by the constructs. */
export class TidemarkCdkError extends TidemarkError {
  constructor(code: string, message: string, context: Record<string, unknown>, options: ErrorOptions = {}) {
    super(code, message, { ...options, context });
    this.name = 'TidemarkCdkError';
  }
}

/**
 * A construct's properties are invalid (an unknown key, a value out of range, a wrong type): core's
 * `ConfigurationError` (code `CONFIGURATION_INVALID`) with `factory` = the construct's class,
 * `option` = the first bad property's path, and `issues` listing every problem; the message lists
 * them all and `context` names the construct's path in the tree.
 */
export class InvalidConstructPropsError extends ConfigurationError {
  constructor(construct: string, path: string, issues: readonly ValidationIssue[]) {
    super(
      `${construct} ${path}: invalid properties: ${issues
        .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
        .join('; ')}`,
      {
        factory: construct,
        option: issues[0]?.path ?? '',
        issues: Object.freeze([...issues]),
        context: { construct, path },
      },
    );
    this.name = 'InvalidConstructPropsError';
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
