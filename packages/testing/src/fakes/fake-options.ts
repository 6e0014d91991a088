/**
 * Option validation shared by the fakes: zod strict objects, so an unknown or mistyped option is a
 * {@link LocalAwsOptionsError} naming the option.
 */
import { z } from 'zod';
import { LocalAwsOptionsError } from '../errors';

/** A function-valued option. */
export const functionOption = z.custom<(...args: never[]) => unknown>(
  (value) => typeof value === 'function',
  {
    message: 'must be a function',
  },
);

/** The options every fake takes besides its own. */
export const commonFakeOptions = {
  faults: z.unknown().optional(),
  now: functionOption.optional(),
  region: z.string().min(1).optional(),
  onBeforeSend: functionOption.optional(),
  onAfterSend: functionOption.optional(),
};

/** Validates `options` with `schema`; throws a {@link LocalAwsOptionsError} naming the bad option. */
export function parseFakeOptions<T>(schema: z.ZodType<T>, options: unknown, fake: string): T {
  const result = schema.safeParse(options ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const option = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '');
    throw new LocalAwsOptionsError(`${fake}: invalid option ${option}: ${issue.message}`, {
      issues: result.error.issues.map((entry) => ({ path: entry.path.join('.'), message: entry.message })),
    });
  }
  return result.data;
}
