import { fileURLToPath } from 'node:url';
import { EventConsumer, EventLogTable, EventPublisher, EventStream } from '@tidemark/cdk';
import { ConfigurationError } from '@tidemark/core';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IPrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_SECONDS, LISTENER_MAPPING, PUBLISHER_MAPPING } from '../mapping-settings';

/** How the stack gets the code of its functions. */
export type LambdaCodeSource =
  /** Bundle each handler from `src/lambda` with esbuild (locally, no Docker). */
  | { readonly kind: 'bundle' }
  /** Use one prebuilt directory for every function (tests: fast, offline synth). */
  | { readonly kind: 'asset'; readonly path: string };

/**
 * Who may call the HTTP API.
 * - `iam`: callers sign their requests with SigV4 and need `execute-api:Invoke` on the API
 *   (other services, and people through their AWS credentials).
 * - `jwt`: callers send `Authorization: Bearer <token>` issued by an OpenID Connect provider
 *   (Cognito, Auth0, Entra ID…); API Gateway checks the token's issuer, audience and, when given,
 *   scopes before the function runs.
 */
export type ApiAuthorization =
  | { readonly kind: 'iam' }
  | {
      readonly kind: 'jwt';
      /** The token issuer, e.g. `https://cognito-idp.<region>.amazonaws.com/<user pool id>`. */
      readonly issuer: string;
      /** Accepted audiences (`aud`, or Cognito's client ids). */
      readonly audience: readonly string[];
      /** Scopes every route requires. Default: none. */
      readonly scopes?: readonly string[];
    };

/** Properties of {@link TaskServiceStack}. */
export interface TaskServiceStackProps extends StackProps {
  /** Where the functions' code comes from. Default: `{ kind: 'bundle' }`. */
  readonly lambdaCode?: LambdaCodeSource;
  /** What happens to the tables when the stack is deleted. Default: `RemovalPolicy.RETAIN`. */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** Who may call the HTTP API; no route is anonymous. Default: `{ kind: 'iam' }`. */
  readonly apiAuthorization?: ApiAuthorization;
  /** Principals of other accounts whose listeners may read the event stream. Default: none. */
  readonly eventStreamReaders?: readonly IPrincipal[];
}

const lambdaDir = fileURLToPath(new URL('../lambda/', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * The task service on AWS, built on `@tidemark/cdk`: the task and project event logs, the Kinesis
 * stream they publish to, the publishers and listeners wired with the required event source
 * settings and alarms, the read-side tables, and the HTTP API behind an authorizer. Every function
 * has its own role with only what it uses.
 *
 * @example
 * ```ts
 * const app = new App();
 * new TaskServiceStack(app, 'TidemarkTaskService', { apiAuthorization: { kind: 'iam' } });
 * ```
 */
export class TaskServiceStack extends Stack {
  /** The HTTP API. */
  readonly api: HttpApi;
  /** The task event log. */
  readonly taskLog: EventLogTable;
  /** The project event log. */
  readonly projectLog: EventLogTable;
  /** The Kinesis stream both services publish to. */
  readonly events: EventStream;

  constructor(scope: Construct, id: string, props: TaskServiceStackProps = {}) {
    super(scope, id, props);
    const code = props.lambdaCode ?? { kind: 'bundle' };
    const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;

    this.taskLog = new EventLogTable(this, 'TaskLog', { removalPolicy });
    this.projectLog = new EventLogTable(this, 'ProjectLog', { removalPolicy });
    this.events = new EventStream(this, 'Events', {
      removalPolicy,
      crossAccountReaders: props.eventStreamReaders ?? [],
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

    const fn = (name: string, entry: string) => {
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
        environment: { NODE_OPTIONS: '--enable-source-maps' },
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

    // The task API: appends to the task log, reads the read model and the known projects.
    const taskApi = fn('TaskApi', 'task-api');
    taskApi.addEnvironment('TASK_LOG_TABLE', this.taskLog.tableName);
    taskApi.addEnvironment('READ_MODEL_TABLE', readModel.tableName);
    taskApi.addEnvironment('PROJECTS_TABLE', projects.tableName);
    this.taskLog.grantAppend(taskApi);
    readModel.grant(taskApi, 'dynamodb:GetItem');
    projects.grant(taskApi, 'dynamodb:GetItem');

    // The project service's API: appends to the project log.
    const projectApi = fn('ProjectApi', 'project-api');
    projectApi.addEnvironment('PROJECT_LOG_TABLE', this.projectLog.tableName);
    this.projectLog.grantAppend(projectApi);

    // The publishers: each log's stream → the event stream, with the publisher's required settings.
    const publisher = (name: string, entry: string, eventLog: EventLogTable) => {
      const handler = fn(name, entry);
      handler.addEnvironment('STREAM_NAME', this.events.streamName);
      return new EventPublisher(this, `${name}Wiring`, {
        handler,
        eventLog,
        eventStream: this.events,
        batchSize: PUBLISHER_MAPPING.batchSize,
        maxBatchingWindow: Duration.seconds(PUBLISHER_MAPPING.maximumBatchingWindowInSeconds),
      });
    };
    const taskPublisher = publisher('TaskPublisher', 'task-publisher', this.taskLog);
    const projectPublisher = publisher('ProjectPublisher', 'project-publisher', this.projectLog);

    // The listeners: the stream → createConsumer, with the consumer's required settings.
    const listener = (
      name: string,
      entry: string,
      options: { readonly transactionalTables?: readonly Table[] } = {},
    ) => {
      const handler = fn(name, entry);
      const wiring = new EventConsumer(this, `${name}Wiring`, {
        handler,
        eventStream: this.events,
        batchSize: LISTENER_MAPPING.batchSize,
        maxBatchingWindow: Duration.seconds(LISTENER_MAPPING.maximumBatchingWindowInSeconds),
        parallelizationFactor: LISTENER_MAPPING.parallelizationFactor,
        checkpointTableRemovalPolicy: removalPolicy,
        transactionalTables: options.transactionalTables ?? [],
      });
      handler.addEnvironment('CONSUMER_TABLE', wiring.checkpointTable.tableName);
      return { handler, wiring };
    };
    // The read model: each row commits in one transaction with the checkpoint; it reads the row first.
    const readModelListener = listener('ReadModelListener', 'read-model-listener', {
      transactionalTables: [readModel],
    });
    readModelListener.handler.addEnvironment('READ_MODEL_TABLE', readModel.tableName);
    readModel.grant(readModelListener.handler, 'dynamodb:GetItem');
    // The projects listener: keeps the known projects, and deletes a deleted project's tasks
    // through the task commands (it appends to the task log like the task API).
    const projectsListener = listener('ProjectsListener', 'projects-listener');
    projectsListener.handler.addEnvironment('PROJECTS_TABLE', projects.tableName);
    projectsListener.handler.addEnvironment('TASK_LOG_TABLE', this.taskLog.tableName);
    projects.grant(projectsListener.handler, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem');
    this.taskLog.grantAppend(projectsListener.handler);

    this.api = new HttpApi(this, 'Api', {
      description: 'The Tidemark task service',
      defaultAuthorizer: authorizer(props.apiAuthorization ?? { kind: 'iam' }),
      ...(props.apiAuthorization?.kind === 'jwt' && (props.apiAuthorization.scopes ?? []).length > 0
        ? { defaultAuthorizationScopes: [...(props.apiAuthorization.scopes ?? [])] }
        : {}),
    });
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
    new CfnOutput(this, 'EventStreamArn', { value: this.events.streamArn });
    new CfnOutput(this, 'TaskPublisherFailuresQueue', { value: taskPublisher.onFailure.queueUrl });
    new CfnOutput(this, 'ProjectPublisherFailuresQueue', { value: projectPublisher.onFailure.queueUrl });
    new CfnOutput(this, 'ReadModelListenerFailuresQueue', {
      value: readModelListener.wiring.onFailure.queueUrl,
    });
    new CfnOutput(this, 'ProjectsListenerFailuresQueue', {
      value: projectsListener.wiring.onFailure.queueUrl,
    });
  }
}

/** The HTTP API's default authorizer: every route requires it. */
function authorizer(authorization: ApiAuthorization): IHttpRouteAuthorizer {
  if (authorization.kind === 'iam') return new HttpIamAuthorizer();
  if (!/^https:\/\/\S+$/.test(authorization.issuer) || authorization.audience.length === 0) {
    throw new ConfigurationError('A JWT authorizer needs an https issuer URL and at least one audience', {
      option: 'authorization',
      context: { issuer: authorization.issuer, audience: authorization.audience },
    });
  }
  return new HttpJwtAuthorizer('JwtAuthorizer', authorization.issuer, {
    jwtAudience: [...authorization.audience],
  });
}
