/**
 * CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary, ListShards, ListStreams,
 * SplitShard and MergeShards. Streams are ACTIVE at once; resharding closes the parents and opens
 * the children in the same call.
 */
import type {
  CreateStreamCommandInput,
  DeleteStreamCommandInput,
  DescribeStreamCommandInput,
  DescribeStreamCommandOutput,
  DescribeStreamSummaryCommandInput,
  DescribeStreamSummaryCommandOutput,
  ListShardsCommandInput,
  ListShardsCommandOutput,
  ListStreamsCommandInput,
  ListStreamsCommandOutput,
  MergeShardsCommandInput,
  SplitShardCommandInput,
} from '@aws-sdk/client-kinesis';
import { parseHashKey } from './hash-keys';
import type { KinesisState } from './kinesis-state';
import { KinesisModelError } from './service-errors';
import { type ShardState, StreamState } from './stream-state';

type Output<T> = Omit<T, '$metadata'>;

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
/** The number of shards of an on-demand stream at creation. */
const ON_DEMAND_SHARDS = 4;

/** CreateStream. */
export function createStream(
  state: KinesisState,
  input: CreateStreamCommandInput,
  now: Date,
): Record<string, never> {
  const name = input.StreamName;
  if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
    throw new KinesisModelError(
      'ValidationException',
      `1 validation error detected: Value '${String(name)}' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
    );
  }
  const onDemand = input.StreamModeDetails?.StreamMode === 'ON_DEMAND';
  const shardCount = input.ShardCount ?? (onDemand ? ON_DEMAND_SHARDS : undefined);
  if (shardCount === undefined || !Number.isInteger(shardCount) || shardCount < 1 || shardCount > 10_000) {
    throw new KinesisModelError(
      'InvalidArgumentException',
      'ShardCount must be an integer from 1 to 10000 for a provisioned stream',
    );
  }
  if (state.streams.has(name)) {
    throw new KinesisModelError(
      'ResourceInUseException',
      `Stream ${name} under account 000000000000 already exists.`,
    );
  }
  state.streams.set(name, new StreamState(name, state.arnOf(name), now, shardCount));
  return {};
}

/** DeleteStream. */
export function deleteStream(state: KinesisState, input: DeleteStreamCommandInput): Record<string, never> {
  const stream = state.stream(input);
  state.streams.delete(stream.name);
  return {};
}

function summary(stream: StreamState) {
  return {
    StreamName: stream.name,
    StreamARN: stream.arn,
    StreamStatus: 'ACTIVE' as const,
    StreamModeDetails: { StreamMode: 'PROVISIONED' as const },
    RetentionPeriodHours: 24,
    StreamCreationTimestamp: stream.createdAt,
    EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
    EncryptionType: 'NONE' as const,
  };
}

/** DescribeStreamSummary. */
export function describeStreamSummary(
  state: KinesisState,
  input: DescribeStreamSummaryCommandInput,
): Output<DescribeStreamSummaryCommandOutput> {
  const stream = state.stream(input);
  return {
    StreamDescriptionSummary: {
      ...summary(stream),
      OpenShardCount: stream.openShards.length,
      ConsumerCount: 0,
    },
  };
}

/** DescribeStream (shards paged by `Limit` and `ExclusiveStartShardId`). */
export function describeStream(
  state: KinesisState,
  input: DescribeStreamCommandInput,
): Output<DescribeStreamCommandOutput> {
  const stream = state.stream(input);
  const limit = input.Limit ?? 100;
  const after = input.ExclusiveStartShardId;
  const shards = stream.shards.filter((shard) => after === undefined || shard.shardId > after);
  return {
    StreamDescription: {
      ...summary(stream),
      Shards: shards.slice(0, limit).map((shard) => stream.describe(shard)),
      HasMoreShards: shards.length > limit,
    },
  };
}

interface ListShardsToken {
  readonly stream: string;
  readonly after: string;
  readonly openOnly: boolean;
}

/** ListShards (paged by `MaxResults` and `NextToken`; `ShardFilter` AT_LATEST, AT/FROM_TRIM_HORIZON, AFTER_SHARD_ID). */
export function listShards(
  state: KinesisState,
  input: ListShardsCommandInput,
): Output<ListShardsCommandOutput> {
  const maxResults = input.MaxResults ?? 1000;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10_000) {
    throw new KinesisModelError('InvalidArgumentException', 'MaxResults must be from 1 to 10000');
  }
  let stream: StreamState;
  let after: string | undefined;
  let openOnly = false;
  if (input.NextToken !== undefined) {
    if (
      input.StreamName !== undefined ||
      input.StreamARN !== undefined ||
      input.ExclusiveStartShardId !== undefined ||
      input.ShardFilter !== undefined
    ) {
      throw new KinesisModelError(
        'InvalidArgumentException',
        'NextToken and StreamName cannot be provided together.',
      );
    }
    let token: ListShardsToken;
    try {
      token = JSON.parse(Buffer.from(input.NextToken, 'base64').toString('utf8')) as ListShardsToken;
    } catch {
      throw new KinesisModelError('InvalidArgumentException', 'Invalid NextToken.');
    }
    stream = state.stream({ StreamName: token.stream });
    after = token.after;
    openOnly = token.openOnly;
  } else {
    stream = state.stream(input);
    after = input.ExclusiveStartShardId;
    const filter = input.ShardFilter;
    if (filter !== undefined) {
      if (filter.Type === 'AT_LATEST') openOnly = true;
      else if (filter.Type === 'AFTER_SHARD_ID') {
        if (filter.ShardId === undefined)
          throw new KinesisModelError(
            'InvalidArgumentException',
            'ShardFilter AFTER_SHARD_ID needs a ShardId',
          );
        after = filter.ShardId;
      } else if (filter.Type !== 'AT_TRIM_HORIZON' && filter.Type !== 'FROM_TRIM_HORIZON') {
        throw new KinesisModelError(
          'InvalidArgumentException',
          `The Kinesis model does not support ShardFilter type ${String(filter.Type)}`,
        );
      }
    }
  }
  const shards = stream.shards.filter(
    (shard) =>
      (after === undefined || shard.shardId > after) &&
      (!openOnly || shard.endingSequenceNumber === undefined),
  );
  const page = shards.slice(0, maxResults);
  const more = shards.length > maxResults;
  return {
    Shards: page.map((shard) => stream.describe(shard)),
    ...(more
      ? {
          NextToken: Buffer.from(
            JSON.stringify({
              stream: stream.name,
              after: page[page.length - 1]!.shardId,
              openOnly,
            } satisfies ListShardsToken),
            'utf8',
          ).toString('base64'),
        }
      : {}),
  };
}

/** ListStreams. */
export function listStreams(
  state: KinesisState,
  input: ListStreamsCommandInput,
): Output<ListStreamsCommandOutput> {
  const limit = input.Limit ?? 100;
  const names = [...state.streams.keys()]
    .sort()
    .filter((name) => input.ExclusiveStartStreamName === undefined || name > input.ExclusiveStartStreamName);
  const page = names.slice(0, limit);
  return {
    StreamNames: page,
    HasMoreStreams: names.length > limit,
    StreamSummaries: page.map((name) => {
      const stream = state.streams.get(name)!;
      return {
        StreamName: name,
        StreamARN: stream.arn,
        StreamStatus: 'ACTIVE',
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        StreamCreationTimestamp: stream.createdAt,
      };
    }),
  };
}

function openShard(stream: StreamState, shardId: unknown): ShardState {
  const shard = typeof shardId === 'string' ? stream.shard(shardId) : undefined;
  if (!shard) {
    throw new KinesisModelError(
      'ResourceNotFoundException',
      `Could not find shard ${String(shardId)} in stream ${stream.name} under account 000000000000.`,
    );
  }
  if (shard.endingSequenceNumber !== undefined) {
    throw new KinesisModelError(
      'ResourceInUseException',
      `Shard ${shard.shardId} in stream ${stream.name} under account 000000000000 has already been merged or split, and thus is not eligible for merging or splitting.`,
    );
  }
  return shard;
}

/** SplitShard: the parent closes at once and two children take its hash key range. */
export function splitShard(state: KinesisState, input: SplitShardCommandInput): Record<string, never> {
  const stream = state.stream(input);
  const shard = openShard(stream, input.ShardToSplit);
  const key = input.NewStartingHashKey === undefined ? undefined : parseHashKey(input.NewStartingHashKey);
  if (key === undefined || key <= shard.start || key > shard.end) {
    throw new KinesisModelError(
      'InvalidArgumentException',
      `NewStartingHashKey ${String(input.NewStartingHashKey)} used in SplitShard() on shard ${shard.shardId} in stream ${stream.name} under account 000000000000 is not both greater than one plus the shard's StartingHashKey ${shard.start} and less than the shard's EndingHashKey ${shard.end}.`,
    );
  }
  stream.split(shard, key);
  return {};
}

/** MergeShards: two adjacent open shards close at once and one child takes both ranges. */
export function mergeShards(state: KinesisState, input: MergeShardsCommandInput): Record<string, never> {
  const stream = state.stream(input);
  const shard = openShard(stream, input.ShardToMerge);
  const adjacent = openShard(stream, input.AdjacentShardToMerge);
  if (shard.end + 1n !== adjacent.start && adjacent.end + 1n !== shard.start) {
    throw new KinesisModelError(
      'InvalidArgumentException',
      `Shards ${shard.shardId} and ${adjacent.shardId} in stream ${stream.name} under account 000000000000 are not an adjacent pair of shards eligible for merging`,
    );
  }
  stream.merge(shard, adjacent);
  return {};
}
