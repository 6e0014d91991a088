import type { z } from 'zod';
import type { ValidationIssue } from './errors';

/**
 * Turns zod issues into Tidemark's {@link ValidationIssue} list (dotted paths, `[i]` for indexes),
 * each path after `prefix`.
 *
 * @example
 * ```ts
 * import { toValidationIssues } from '@tidemark/core/internal';
 * const result = schema.safeParse(data);
 * if (!result.success) issues.push(...toValidationIssues(result.error, 'events[0].data'));
 * ```
 */
export function toValidationIssues(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return error.issues.map((issue) => {
    let path = prefix;
    for (const segment of issue.path) {
      if (typeof segment === 'number') path += `[${segment}]`;
      else path += path ? `.${String(segment)}` : String(segment);
    }
    return { path, message: issue.message, code: issue.code };
  });
}
