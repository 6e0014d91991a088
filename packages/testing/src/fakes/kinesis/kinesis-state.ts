/**
 * The streams of one Kinesis model and how requests name them (`StreamName` or `StreamARN`).
 */
import { KinesisModelError } from './service-errors';
import type { StreamState } from './stream-state';

/** The account id in the model's ARNs. */
export const FAKE_ACCOUNT_ID = '000000000000';

/** The streams of a model, by name. */
export class KinesisState {
  readonly streams = new Map<string, StreamState>();

  constructor(readonly region: string) {}

  /** The ARN of a stream name. */
  arnOf(name: string): string {
    return `arn:aws:kinesis:${this.region}:${FAKE_ACCOUNT_ID}:stream/${name}`;
  }

  /** The stream a request names, or ResourceNotFoundException. */
  stream(input: { StreamName?: string; StreamARN?: string }): StreamState {
    const byArn =
      input.StreamARN === undefined
        ? undefined
        : /^arn:[^:]+:kinesis:[^:]*:\d{12}:stream\/(.+)$/.exec(input.StreamARN)?.[1];
    if (input.StreamARN !== undefined && byArn === undefined) {
      throw new KinesisModelError(
        'ValidationException',
        `1 validation error detected: Value '${input.StreamARN}' at 'streamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+`,
      );
    }
    if (input.StreamName !== undefined && byArn !== undefined && input.StreamName !== byArn) {
      throw new KinesisModelError(
        'InvalidArgumentException',
        'StreamARN and StreamName do not name the same stream',
      );
    }
    const name = input.StreamName ?? byArn;
    if (name === undefined)
      throw new KinesisModelError(
        'InvalidArgumentException',
        'Either StreamName or StreamARN should be provided.',
      );
    const stream = this.streams.get(name);
    if (!stream || (input.StreamARN !== undefined && stream.arn !== input.StreamARN)) {
      throw new KinesisModelError(
        'ResourceNotFoundException',
        `Stream ${name} under account ${FAKE_ACCOUNT_ID} not found.`,
      );
    }
    return stream;
  }
}
