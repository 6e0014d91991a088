/**
 * Turns what DynamoDB Streams' `GetRecords` returns into the event Lambda delivers, for tests that
 * feed a handler real stream records without the event-source emulation.
 */
import type { GetRecordsCommandOutput, _Record as StreamsRecord } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { EventSourceConfigurationError } from '../errors';
import { arnRegion, withArnRegion } from './arn';
import { toLambdaDynamoDbRecord } from './dynamodb-stream-event-source';

/** Options of {@link dynamoDbStreamEventFromGetRecords}. */
export interface GetRecordsEventOptions {
  /** The stream the records were read from (`eventSourceARN`). */
  readonly streamArn: string;
  /**
   * The region of the records (`awsRegion`, and the region part of `eventSourceARN`). Default: the
   * region in `streamArn`, or `'us-east-1'` when it is not an AWS region (DynamoDB Local's
   * `ddblocal`), as `startLocalAws` uses.
   */
  readonly region?: string;
}

/**
 * Converts the output of a DynamoDB Streams `GetRecords` call (or its `Records`) to the
 * `DynamoDBStreamEvent` Lambda would deliver for them: `ApproximateCreationDateTime` in epoch
 * seconds, binary attributes in base64, `eventSource: 'aws:dynamodb'`, and `eventSourceARN` and
 * `awsRegion` set and consistent with each other. Throws {@link EventSourceConfigurationError} for
 * a `streamArn` that is not a DynamoDB stream ARN.
 *
 * @example
 * ```ts
 * import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
 * import { dynamoDbStreamEventFromGetRecords, fakeLambdaContext } from '@tidemark/testing';
 *
 * const { ShardIterator } = await aws.dynamodbStreams.send(
 *   new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }),
 * );
 * const output = await aws.dynamodbStreams.send(new GetRecordsCommand({ ShardIterator }));
 * await publisher(dynamoDbStreamEventFromGetRecords(output, { streamArn }), fakeLambdaContext());
 * ```
 */
export function dynamoDbStreamEventFromGetRecords(
  output: Pick<GetRecordsCommandOutput, 'Records'> | readonly StreamsRecord[],
  options: GetRecordsEventOptions,
): DynamoDBStreamEvent {
  const { streamArn } = options;
  if (
    typeof streamArn !== 'string' ||
    !/^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\/.+$/.test(streamArn)
  ) {
    throw new EventSourceConfigurationError(
      'streamArn must be a DynamoDB stream ARN: arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>',
      { streamArn },
    );
  }
  const region = options.region ?? arnRegion(streamArn) ?? 'us-east-1';
  const records = Array.isArray(output)
    ? output
    : ((output as Pick<GetRecordsCommandOutput, 'Records'>).Records ?? []);
  return {
    Records: records.map((record: StreamsRecord) =>
      toLambdaDynamoDbRecord(record, withArnRegion(streamArn, region), region),
    ),
  };
}
