import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream } from 'aws-cdk-lib/aws-kinesis';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  Runtime,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** Properties of {@link ActivityFeedStack}. */
export interface ActivityFeedStackProps extends StackProps {
  /** The ARN of the task service's domain-events Kinesis stream (its `EventStreamName` output's ARN). */
  readonly eventStreamArn: string;
  /**
   * Where the function's code comes from: bundle `src/lambda.ts` with esbuild (locally, no
   * Docker), or a prebuilt directory (tests). Default: `{ kind: 'bundle' }`.
   */
  readonly lambdaCode?: { readonly kind: 'bundle' } | { readonly kind: 'asset'; readonly path: string };
  /** What happens to the tables when the stack is deleted. Default: `RemovalPolicy.RETAIN`. */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The activity feed, deployed by its own team next to (not inside) the task service: the feed
 * table, the consumer table, the listener function with its own least-privilege role, and its
 * event source mapping on the task service's stream.
 *
 * @example
 * ```ts
 * new ActivityFeedStack(app, 'ActivityFeed', { eventStreamArn: 'arn:aws:kinesis:…:stream/…' });
 * ```
 */
export class ActivityFeedStack extends Stack {
  constructor(scope: Construct, id: string, props: ActivityFeedStackProps) {
    super(scope, id, props);
    const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;
    const table = (name: string) =>
      new Table(this, name, {
        partitionKey: { name: 'pk', type: AttributeType.STRING },
        sortKey: { name: 'sk', type: AttributeType.STRING },
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy,
      });
    const feed = table('Feed');
    const state = table('ListenerState');
    const failures = new Queue(this, 'ListenerFailures', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const stream = Stream.fromStreamArn(this, 'DomainEvents', props.eventStreamArn);

    const common = {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
      logGroup: new LogGroup(this, 'ListenerLogs', {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        FEED_TABLE: feed.tableName,
        CONSUMER_TABLE: state.tableName,
      },
    };
    const code = props.lambdaCode ?? { kind: 'bundle' };
    const listener =
      code.kind === 'asset'
        ? new LambdaFunction(this, 'Listener', {
            ...common,
            code: Code.fromAsset(code.path),
            handler: 'lambda.handler',
          })
        : new NodejsFunction(this, 'Listener', {
            ...common,
            entry: `${packageRoot}src/lambda.ts`,
            handler: 'handler',
            projectRoot: repoRoot,
            depsLockFilePath: `${repoRoot}package-lock.json`,
            bundling: {
              format: OutputFormat.ESM,
              target: 'node22',
              sourceMap: true,
              minify: true,
              forceDockerBundling: false,
              tsconfig: `${packageRoot}tsconfig.json`,
              mainFields: ['module', 'main'],
              banner:
                "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
            },
          });

    // The feed is written in transactions with the checkpoint; names are read back.
    listener.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
        resources: [feed.tableArn],
      }),
    );
    listener.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [state.tableArn],
      }),
    );
    listener.addEventSource(
      new KinesisEventSource(stream, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 20,
        maxRecordAge: Duration.hours(24),
        parallelizationFactor: 1,
        onFailure: new SqsDlq(failures),
      }),
    );
  }
}
