/**
 * The model's internal signal for a request DynamoDB would refuse with `ValidationException`. The
 * model turns it into the SDK's exception (or, inside a transaction, into a `ValidationError`
 * cancellation reason) before it reaches the caller.
 */
export class ModelValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelValidationError';
  }
}

/** The model's internal signal for `ResourceNotFoundException` (an unknown table). */
export class ModelResourceNotFoundError extends Error {
  constructor(readonly tableName: string) {
    super('Requested resource not found');
    this.name = 'ModelResourceNotFoundError';
  }
}

/** The model's internal signal for `ConditionalCheckFailedException` (single-item writes). */
export class ModelConditionFailedError extends Error {
  constructor(readonly item: Record<string, unknown> | undefined) {
    super('The conditional request failed');
    this.name = 'ModelConditionFailedError';
  }
}
