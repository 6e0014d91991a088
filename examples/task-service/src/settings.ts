import { MissingSettingError } from './errors';

/**
 * Reads a required environment variable (the Lambda functions' configuration, set by the CDK
 * stack). Throws {@link MissingSettingError} naming it when it is absent or empty.
 *
 * @example
 * ```ts
 * const tableName = setting('TASK_LOG_TABLE');
 * ```
 */
export function setting(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new MissingSettingError(name);
  return value;
}
