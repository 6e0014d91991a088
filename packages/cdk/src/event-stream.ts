import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Grant, type IGrantable, type IPrincipal, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { z } from 'zod';
import { anyObject, durationSchema, intInRange, parseProps } from './props';

/**
 * How long the stream keeps records by default: seven days. A listener's event source mapping
 * never gives up on a record (its required settings), so a listener that is broken — a bad deploy,
 * a downstream outage, a team away over a long weekend — loses events only when the stream's
 * retention ends. Kinesis' own default (24 hours) is shorter than a weekend; seven days covers a
 * week-long incident and is the end of Kinesis' extended retention (long-term retention past it is
 * billed per GB-month at a higher rate). Past it, the producer can `replay` the log.
 */
export const DEFAULT_EVENT_STREAM_RETENTION = Duration.days(7);

/** Properties of {@link EventStream}. */
export interface EventStreamProps {
  /** The stream's name. @default a name CloudFormation generates */
  readonly streamName?: string;
  /**
   * How long records stay readable (24 hours to 365 days).
   * @default DEFAULT_EVENT_STREAM_RETENTION (7 days)
   */
  readonly retentionPeriod?: Duration;
  /**
   * A fixed number of shards (provisioned mode). Without it the stream is on-demand: it scales
   * with traffic and nobody has to resize it when a new producer or listener arrives.
   * @default on-demand
   */
  readonly shardCount?: number;
  /**
   * A customer managed KMS key instead of the AWS managed one. Producers then need
   * `kms:GenerateDataKey` and readers `kms:Decrypt` on it: {@link EventStream.grantPublish},
   * {@link EventStream.grantRead} and {@link EventStream.grantCrossAccountRead} add them (the last
   * in the key's policy, for a principal of another account).
   * @default the AWS managed key (`aws/kinesis`)
   */
  readonly encryptionKey?: IKey;
  /** What happens to the stream when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Principals in other accounts (usually `new AccountPrincipal('<account>')` or the listener
   * role's `ArnPrincipal`) allowed to read the stream; same as calling
   * {@link EventStream.grantCrossAccountRead} for each.
   * @default none
   */
  readonly crossAccountReaders?: readonly IPrincipal[];
}

const propsSchema = z
  .object({
    streamName: z.string().min(1).max(128).optional(),
    retentionPeriod: durationSchema
      .refine((value) => value.toHours() >= 24 && value.toHours() <= 8760, {
        message: 'expected from 24 hours to 365 days',
      })
      .optional(),
    shardCount: intInRange(1, 10_000).optional(),
    encryptionKey: anyObject<IKey>('a KMS key (IKey)').optional(),
    removalPolicy: z.enum(RemovalPolicy).optional(),
    crossAccountReaders: z.array(anyObject<IPrincipal>('an IAM principal (IPrincipal)')).optional(),
  })
  .strict();

/**
 * What a listener's event source mapping reads a stream with (standard iterators). Not
 * `SubscribeToShard` and `DescribeStreamConsumer`: those belong to enhanced fan-out and are granted
 * on the registered consumer only when it is used.
 */
export const STREAM_READ_ACTIONS = Object.freeze([
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
]);

/** What the publisher puts records with. */
const PUBLISH_ACTIONS = Object.freeze(['kinesis:PutRecords']);

/**
 * The Kinesis stream a service publishes its domain events to: on-demand by default, encrypted,
 * seven days' retention by default ({@link DEFAULT_EVENT_STREAM_RETENTION} says why), retained when
 * it leaves the stack, and readable by listeners in other accounts through its resource policy.
 *
 * @example
 * ```ts
 * import { AccountPrincipal } from 'aws-cdk-lib/aws-iam';
 * import { EventStream } from '@tidemark/cdk';
 *
 * const events = new EventStream(this, 'Events', {
 *   crossAccountReaders: [new AccountPrincipal('222222222222')],
 * });
 * ```
 */
export class EventStream extends Construct {
  /** The underlying stream. */
  readonly stream: Stream;

  constructor(scope: Construct, id: string, props: EventStreamProps = {}) {
    super(scope, id);
    const parsed = parseProps(propsSchema, props, 'EventStream', this);
    this.stream = new Stream(this, 'Stream', {
      ...(parsed.streamName === undefined ? {} : { streamName: parsed.streamName }),
      retentionPeriod: parsed.retentionPeriod ?? DEFAULT_EVENT_STREAM_RETENTION,
      ...(parsed.shardCount === undefined
        ? { streamMode: StreamMode.ON_DEMAND }
        : { streamMode: StreamMode.PROVISIONED, shardCount: parsed.shardCount }),
      ...(parsed.encryptionKey === undefined
        ? { encryption: StreamEncryption.MANAGED }
        : { encryption: StreamEncryption.KMS, encryptionKey: parsed.encryptionKey }),
      removalPolicy: parsed.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    for (const reader of parsed.crossAccountReaders ?? []) this.grantCrossAccountRead(reader);
  }

  /** The stream's ARN. */
  get streamArn(): string {
    return this.stream.streamArn;
  }

  /** The stream's name. */
  get streamName(): string {
    return this.stream.streamName;
  }

  /** The customer managed key, when the stream has one. */
  get encryptionKey(): IKey | undefined {
    return this.stream.encryptionKey;
  }

  /**
   * Grants putting records (`PutRecords`, and `kms:GenerateDataKey` with a customer managed key):
   * what `createPublisher` and `replay` send.
   *
   * @example
   * ```ts
   * events.grantPublish(publisherFunction);
   * ```
   */
  grantPublish(grantee: IGrantable): Grant {
    this.encryptionKey?.grant(grantee, 'kms:GenerateDataKey');
    return Grant.addToPrincipal({ grantee, actions: [...PUBLISH_ACTIONS], resourceArns: [this.streamArn] });
  }

  /**
   * Grants reading with standard iterators ({@link STREAM_READ_ACTIONS}, and `kms:Decrypt` with a
   * customer managed key) to a principal of this account. Nothing that writes.
   *
   * @example
   * ```ts
   * events.grantRead(listenerFunction);
   * ```
   */
  grantRead(grantee: IGrantable): Grant {
    this.encryptionKey?.grantDecrypt(grantee);
    return Grant.addToPrincipal({
      grantee,
      actions: [...STREAM_READ_ACTIONS],
      resourceArns: [this.streamArn],
    });
  }

  /**
   * Lets a principal of another account read the stream: a statement in the stream's resource
   * policy with {@link STREAM_READ_ACTIONS} (and, with a customer managed key, `kms:Decrypt` in the
   * key's policy). The listener's own role still needs the same actions in its identity policy;
   * {@link EventConsumer} grants them.
   *
   * @example
   * ```ts
   * events.grantCrossAccountRead(new ArnPrincipal('arn:aws:iam::222222222222:role/activity-feed-listener'));
   * ```
   */
  grantCrossAccountRead(principal: IPrincipal): void {
    this.stream.addToResourcePolicy(
      new PolicyStatement({
        principals: [principal],
        actions: [...STREAM_READ_ACTIONS],
        resources: [this.streamArn],
      }),
    );
    this.encryptionKey?.grantDecrypt(principal);
  }
}
