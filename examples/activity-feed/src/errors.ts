import { TidemarkError } from '@tidemark/core';

/** A required environment variable of the Lambda function is missing or empty. */
export class MissingSettingError extends TidemarkError {
  constructor(name: string) {
    super('SETTING_MISSING', `The setting ${name} is missing (set the environment variable ${name})`, {
      context: { name },
    });
    this.name = 'MissingSettingError';
  }
}
