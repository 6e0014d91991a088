/**
 * Validation of construct properties with zod strict objects: unknown keys (typos) and values out
 * of range fail at synth time with every problem listed.
 *
 * @internal
 */
import { toValidationIssues } from '@tidemark/core/internal';
import { Duration, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { z } from 'zod';
import { InvalidConstructPropsError } from './errors';

/** A CDK `Duration`. */
export const durationSchema = z.custom<Duration>((value) => value instanceof Duration, {
  message: 'expected a Duration (aws-cdk-lib)',
});

/** A value of a given class (a CDK construct, a queue, a function…). */
export const instanceOf = <T>(name: string, check: (value: unknown) => boolean) =>
  z.custom<T>(check, { message: `expected ${name}` });

/** Any object (a construct or an interface implementation checked by TypeScript). */
export const anyObject = <T>(name: string) =>
  z.custom<T>((value) => typeof value === 'object' && value !== null, { message: `expected ${name}` });

/** An integer in a range, or a CDK token (resolved at deploy time). */
export const intInRange = (min: number, max: number) =>
  z
    .number()
    .refine(
      (value) => Token.isUnresolved(value) || (Number.isInteger(value) && value >= min && value <= max),
      {
        message: `expected an integer from ${min} to ${max}`,
      },
    );

/** Parses `props` with a strict schema; throws {@link InvalidConstructPropsError} listing every issue. */
export function parseProps<T extends z.ZodType>(
  schema: T,
  props: unknown,
  constructName: string,
  scope: Construct,
): z.output<T> {
  const result = schema.safeParse(props ?? {});
  if (!result.success) {
    throw new InvalidConstructPropsError(constructName, scope.node.path, toValidationIssues(result.error));
  }
  return result.data;
}
