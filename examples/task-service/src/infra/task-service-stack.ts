import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  Runtime,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_SECONDS, LISTENER_MAPPING, PUBLISHER_MAPPING } from '../mapping-settings';

/** How the stack gets the code of its functions. */
export type LambdaCodeSource =
  /** Bundle each handler from `src/lambda` with esbuild (locally, no Docker). */
  | { readonly kind: 'bundle' }
  /** Use one prebuilt directory for every function (tests: fast, offline synth). */
  | { readonly kind: 'asset'; readonly path: string };

/** Properties of {@link TaskServiceStack}. */
export interface TaskServiceStackProps extends StackProps {
  /** Where the functions' code comes from. Default: `{ kind: 'bundle' }`. */
  readonly lambdaCode?: LambdaCodeSource;
  /** What happens to the tables when the stack is deleted. Default: `RemovalPolicy.RETAIN`. */
  readonly tableRemovalPolicy?: RemovalPolicy;
}

const lambdaDir = fileURLToPath(new URL('../lambda/', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The task service on AWS: the task and project event logs (DynamoDB, NEW_IMAGE streams), the
 * Kinesis stream they publish to, the publishers, the listeners with their state tables, the HTTP
 * API, one IAM role per function with only what it uses, and the on-failure queues.
 *
 * @example
 * ```ts
 * const app = new App();
 * new TaskServiceStack(app, 'TidemarkTaskService');
 * ```
 */
export class TaskServiceStack extends Stack {
  /** The HTTP API. */
  readonly api: HttpApi;
  /** The task event log. */
  readonly taskLog: Table;
  /** The project event log. */
  readonly projectLog: Table;
  /** The Kinesis stream both services publish to. */
  readonly events: Stream;

  constructor(scope: Construct, id: string, props: TaskServiceStackProps = {}) {
    super(scope, id, props);
    const code = props.lambdaCode ?? { kind: 'bundle' };
    const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;

    const eventLog = (name: string) =>
      new Table(this, name, {
        partitionKey: { name: 'pk', type: AttributeType.STRING },
        sortKey: { name: 'sk', type: AttributeType.NUMBER },
        billingMode: BillingMode.PAY_PER_REQUEST,
        stream: StreamViewType.NEW_IMAGE,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy,
      });
    this.taskLog = eventLog('TaskLog');
    this.projectLog = eventLog('ProjectLog');

    this.events = new Stream(this, 'Events', {
      streamMode: StreamMode.ON_DEMAND,
      // Seven days, so that records named in the on-failure queue can still be read and redriven.
      retentionPeriod: Duration.days(7),
      encryption: StreamEncryption.MANAGED,
    });

    const stateTable = (name: string, partitionKey: string, sortKey?: string) =>
      new Table(this, name, {
        partitionKey: { name: partitionKey, type: AttributeType.STRING },
        ...(sortKey === undefined ? {} : { sortKey: { name: sortKey, type: AttributeType.STRING } }),
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.AWS_MANAGED,
        removalPolicy,
      });
    const readModel = stateTable('TaskReadModel', 'id');
    const projects = stateTable('KnownProjects', 'pk', 'sk');
    const readModelState = stateTable('ReadModelListenerState', 'pk', 'sk');
    const projectsState = stateTable('ProjectsListenerState', 'pk', 'sk');

    const failures = (name: string) =>
      new Queue(this, name, {
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    const publisherFailures = failures('PublisherFailures');
    const listenerFailures = failures('ListenerFailures');

    const fn = (name: string, entry: string, environment: Record<string, string>) => {
      const logGroup = new LogGroup(this, `${name}Logs`, {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const common = {
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: 512,
        timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
        logGroup,
        environment: { NODE_OPTIONS: '--enable-source-maps', ...environment },
      };
      if (code.kind === 'asset') {
        return new LambdaFunction(this, name, {
          ...common,
          code: Code.fromAsset(code.path),
          handler: `${entry}.handler`,
        });
      }
      return new NodejsFunction(this, name, {
        ...common,
        entry: `${lambdaDir}${entry}.ts`,
        handler: 'handler',
        projectRoot: repoRoot,
        depsLockFilePath: `${repoRoot}package-lock.json`,
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          sourceMap: true,
          minify: true,
          forceDockerBundling: false,
          // Workspace packages resolve to their sources through the tsconfig paths, as in the tests.
          tsconfig: `${repoRoot}examples/task-service/tsconfig.json`,
          mainFields: ['module', 'main'],
          banner:
            "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        },
      });
    };

    const allow = (actions: string[], resources: string[]) => new PolicyStatement({ actions, resources });
    const logRead = ['dynamodb:GetItem', 'dynamodb:Query'];
    const logAppend = ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'];

    // The task API: appends to the task log, reads the read model and the known projects.
    const taskApi = fn('TaskApi', 'task-api', {
      TASK_LOG_TABLE: this.taskLog.tableName,
      READ_MODEL_TABLE: readModel.tableName,
      PROJECTS_TABLE: projects.tableName,
    });
    taskApi.addToRolePolicy(allow([...logRead, ...logAppend], [this.taskLog.tableArn]));
    taskApi.addToRolePolicy(allow(['dynamodb:GetItem'], [readModel.tableArn, projects.tableArn]));

    // The project service's API: appends to the project log.
    const projectApi = fn('ProjectApi', 'project-api', { PROJECT_LOG_TABLE: this.projectLog.tableName });
    projectApi.addToRolePolicy(allow([...logRead, ...logAppend], [this.projectLog.tableArn]));

    // The publishers: read their log's stream (granted by the mapping), put records on the stream.
    const publisher = (name: string, entry: string, log: Table) => {
      const publisherFn = fn(name, entry, { STREAM_NAME: this.events.streamName });
      publisherFn.addToRolePolicy(allow(['kinesis:PutRecords'], [this.events.streamArn]));
      publisherFn.addEventSource(
        new DynamoEventSource(log, {
          ...mappingProps(PUBLISHER_MAPPING),
          onFailure: new SqsDlq(publisherFailures),
        }),
      );
      return publisherFn;
    };
    publisher('TaskPublisher', 'task-publisher', this.taskLog);
    publisher('ProjectPublisher', 'project-publisher', this.projectLog);

    // The listeners: read the stream (granted by the mapping), keep their own state.
    const stateActions = [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ];
    const listener = (name: string, entry: string, state: Table, environment: Record<string, string>) => {
      const listenerFn = fn(name, entry, { CONSUMER_TABLE: state.tableName, ...environment });
      listenerFn.addToRolePolicy(allow(stateActions, [state.tableArn]));
      listenerFn.addEventSource(
        new KinesisEventSource(this.events, {
          ...mappingProps(LISTENER_MAPPING),
          onFailure: new SqsDlq(listenerFailures),
        }),
      );
      return listenerFn;
    };
    const readModelListener = listener('ReadModelListener', 'read-model-listener', readModelState, {
      READ_MODEL_TABLE: readModel.tableName,
    });
    readModelListener.addToRolePolicy(
      allow(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'], [readModel.tableArn]),
    );
    const projectsListener = listener('ProjectsListener', 'projects-listener', projectsState, {
      PROJECTS_TABLE: projects.tableName,
      TASK_LOG_TABLE: this.taskLog.tableName,
    });
    projectsListener.addToRolePolicy(
      allow(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'], [projects.tableArn]),
    );
    // It deletes a deleted project's tasks through the task commands: read and append the task log.
    projectsListener.addToRolePolicy(allow([...logRead, ...logAppend], [this.taskLog.tableArn]));

    this.api = new HttpApi(this, 'Api', { description: 'The Tidemark task service' });
    const taskIntegration = new HttpLambdaIntegration('TaskApiIntegration', taskApi);
    const projectIntegration = new HttpLambdaIntegration('ProjectApiIntegration', projectApi);
    this.api.addRoutes({ path: '/tasks', methods: [HttpMethod.POST], integration: taskIntegration });
    this.api.addRoutes({
      path: '/tasks/{id}',
      methods: [HttpMethod.GET, HttpMethod.PATCH, HttpMethod.DELETE],
      integration: taskIntegration,
    });
    this.api.addRoutes({ path: '/projects', methods: [HttpMethod.POST], integration: projectIntegration });
    this.api.addRoutes({
      path: '/projects/{id}',
      methods: [HttpMethod.DELETE],
      integration: projectIntegration,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'EventStreamName', { value: this.events.streamName });
    new CfnOutput(this, 'PublisherFailuresQueue', { value: publisherFailures.queueUrl });
    new CfnOutput(this, 'ListenerFailuresQueue', { value: listenerFailures.queueUrl });
  }
}

/** The CDK properties of an event source mapping from the shared settings. */
function mappingProps(settings: typeof PUBLISHER_MAPPING | typeof LISTENER_MAPPING) {
  return {
    startingPosition: StartingPosition.TRIM_HORIZON,
    batchSize: settings.batchSize,
    maxBatchingWindow: Duration.seconds(settings.maximumBatchingWindowInSeconds),
    reportBatchItemFailures: settings.reportBatchItemFailures,
    bisectBatchOnError: settings.bisectBatchOnFunctionError,
    retryAttempts: settings.maximumRetryAttempts,
    maxRecordAge: Duration.seconds(settings.maximumRecordAgeInSeconds),
    parallelizationFactor: settings.parallelizationFactor,
  };
}
