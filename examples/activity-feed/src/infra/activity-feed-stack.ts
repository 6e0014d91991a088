import { fileURLToPath } from 'node:url';
import { EventConsumer } from '@tidemark/cdk';
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Properties of {@link ActivityFeedStack}. */
export interface ActivityFeedStackProps extends StackProps {
  /**
   * The ARN of the task service's domain-events Kinesis stream (its `EventStreamArn` output), in
   * this account or another one whose owner lets this account read it.
   */
  readonly eventStreamArn: string;
  /**
   * Where the function's code comes from: bundle `src/lambda.ts` with esbuild (locally, no
   * Docker), or a prebuilt directory (tests). Default: `{ kind: 'bundle' }`.
   */
  readonly lambdaCode?: { readonly kind: 'bundle' } | { readonly kind: 'asset'; readonly path: string };
  /** What happens to the tables when the stack is deleted. Default: `RemovalPolicy.RETAIN`. */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** Read through a registered stream consumer (enhanced fan-out; same-account streams). Default: `false`. */
  readonly enhancedFanOut?: boolean;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The activity feed, deployed by its own team next to (not inside) the task service, usually in
 * its own account: the feed table, the listener function and its wiring to the task service's
 * stream through `@tidemark/cdk` (the consumer's required settings, its checkpoint table, least
 * privilege, alarms).
 *
 * @example
 * ```ts
 * new ActivityFeedStack(app, 'ActivityFeed', { eventStreamArn: 'arn:aws:kinesis:…:stream/…' });
 * ```
 */
export class ActivityFeedStack extends Stack {
  /** The listener's wiring: mapping, checkpoint table, on-failure queue, alarms. */
  readonly listener: EventConsumer;

  constructor(scope: Construct, id: string, props: ActivityFeedStackProps) {
    super(scope, id, props);
    const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;
    const feed = new Table(this, 'Feed', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy,
    });

    const common = {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(30),
      logGroup: new LogGroup(this, 'ListenerLogs', {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: { NODE_OPTIONS: '--enable-source-maps', FEED_TABLE: feed.tableName },
    };
    const code = props.lambdaCode ?? { kind: 'bundle' };
    const handler =
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

    // Each feed entry commits in one transaction with the checkpoint; task names are read back.
    this.listener = new EventConsumer(this, 'Wiring', {
      handler,
      eventStream: props.eventStreamArn,
      transactionalTables: [feed],
      checkpointTableRemovalPolicy: removalPolicy,
      enhancedFanOut: props.enhancedFanOut ?? false,
    });
    feed.grant(handler, 'dynamodb:GetItem', 'dynamodb:Query');
    handler.addEnvironment('CONSUMER_TABLE', this.listener.checkpointTable.tableName);
  }
}
