import { fileURLToPath } from 'node:url';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskServiceStack } from '../../src/infra/task-service-stack';

const prebuilt = fileURLToPath(new URL('../fixtures/prebuilt-lambda', import.meta.url));

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

describe('TaskServiceStack', () => {
  let template: Template;

  beforeAll(() => {
    const app = new App();
    const stack = new TaskServiceStack(app, 'Test', {
      lambdaCode: { kind: 'asset', path: prebuilt },
      tableRemovalPolicy: RemovalPolicy.DESTROY,
    });
    template = Template.fromStack(stack);
  }, 60_000);

  /** The logical id of the function whose handler is `<entry>.handler`. */
  const functionId = (entry: string): string => {
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Handler: `${entry}.handler` },
    });
    const ids = Object.keys(functions);
    expect(ids).toHaveLength(1);
    return ids[0]!;
  };

  /** The statements of the policies attached to a function's role, flattened. */
  const statementsOf = (entry: string): Statement[] => {
    const fn = template.toJSON().Resources[functionId(entry)];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: roleId }] },
    });
    return Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  };
  const actionsOf = (entry: string): string[] =>
    statementsOf(entry)
      .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]))
      .sort();

  it('gives the two event logs a NEW_IMAGE stream and the (pk: S, sk: N) key', () => {
    const logs = template.findResources('AWS::DynamoDB::Table', {
      Properties: { StreamSpecification: Match.anyValue() },
    });
    expect(Object.keys(logs)).toHaveLength(2);
    for (const log of Object.values(logs)) {
      expect(log.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
      expect(log.Properties.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(log.Properties.AttributeDefinitions).toContainEqual({ AttributeName: 'sk', AttributeType: 'N' });
    }
  });

  it('creates one Kinesis stream with a retention long enough to redrive from the failure queue', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      RetentionPeriodHours: 168,
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
    });
  });

  it('maps each log stream to its publisher with the settings ordered publishing needs', () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Log'), 'StreamArn'] } },
    });
    expect(Object.keys(mappings)).toHaveLength(2);
    for (const mapping of Object.values(mappings)) {
      expect(mapping.Properties).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 100,
        MaximumRecordAgeInSeconds: 12 * 3600,
        ParallelizationFactor: 1,
        BatchSize: 100,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^PublisherFailures/), 'Arn'] } },
        },
      });
    }
  });

  it('maps the Kinesis stream to each listener with ReportBatchItemFailures and an on-failure queue', () => {
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Events'), 'Arn'] } },
    });
    expect(Object.keys(mappings)).toHaveLength(2);
    for (const mapping of Object.values(mappings)) {
      expect(mapping.Properties).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 20,
        MaximumRecordAgeInSeconds: 24 * 3600,
        ParallelizationFactor: 1,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^ListenerFailures/), 'Arn'] } },
        },
      });
    }
  });

  it('gives every function its own role', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(6);
    const roles = new Set(functions.map((fn) => JSON.stringify(fn.Properties.Role)));
    expect(roles.size).toBe(6);
  });

  it('lets the task API read and append to the task log, and only read the read model and projects', () => {
    expect(actionsOf('task-api')).toEqual(
      [
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ].sort(),
    );
    const statements = statementsOf('task-api');
    const readOnly = statements.find((statement) => statement.Action === 'dynamodb:GetItem');
    expect(JSON.stringify(readOnly?.Resource)).toMatch(/TaskReadModel.*KnownProjects/);
    expect(JSON.stringify(statements)).not.toMatch(/dynamodb:(DeleteItem|UpdateItem|Scan|\*)|kinesis:/);
  });

  it('lets a publisher read its own log stream and put records on the stream, nothing else', () => {
    const actions = actionsOf('task-publisher');
    expect(actions).toEqual(
      expect.arrayContaining([
        'kinesis:PutRecords',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'sqs:SendMessage',
      ]),
    );
    expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual(
      expect.not.arrayContaining(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query']),
    );
    const statements = JSON.stringify(statementsOf('task-publisher'));
    expect(statements).toMatch(/TaskLog/);
    expect(statements).not.toMatch(/ProjectLog|TaskReadModel|KnownProjects/);
    expect(actions.filter((action) => action.startsWith('kinesis:'))).toEqual(['kinesis:PutRecords']);
  });

  it('lets the read-model listener write only the read model and its own state table', () => {
    const statements = statementsOf('read-model-listener');
    const dynamoWrites = statements.filter((statement) =>
      (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).includes('dynamodb:PutItem'),
    );
    const written = JSON.stringify(dynamoWrites.map((statement) => statement.Resource));
    expect(written).toMatch(/TaskReadModel/);
    expect(written).toMatch(/ReadModelListenerState/);
    expect(written).not.toMatch(/TaskLog|KnownProjects|ProjectsListenerState/);
    expect(actionsOf('read-model-listener')).toEqual(
      expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'sqs:SendMessage']),
    );
    expect(actionsOf('read-model-listener')).not.toContain('kinesis:PutRecords');
    // The consumer's own table: checkpoints (batched reads, transactions), held records (batched writes).
    const state = statements.find((statement) =>
      JSON.stringify(statement.Resource).includes('ReadModelListenerState'),
    );
    expect(state?.Action).toEqual(
      expect.arrayContaining([
        'dynamodb:BatchGetItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:ConditionCheckItem',
      ]),
    );
  });

  it('lets the projects listener append to the task log (to delete tasks) but not read the read model', () => {
    const statements = JSON.stringify(statementsOf('projects-listener'));
    expect(statements).toMatch(/TaskLog/);
    expect(statements).toMatch(/KnownProjects/);
    expect(statements).not.toMatch(/TaskReadModel/);
  });

  it('routes the HTTP API (payload 2.0) to the task and project functions', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey as string,
    );
    expect(routes.sort()).toEqual(
      [
        'DELETE /projects/{id}',
        'DELETE /tasks/{id}',
        'GET /tasks/{id}',
        'PATCH /tasks/{id}',
        'POST /projects',
        'POST /tasks',
      ].sort(),
    );
    template.allResourcesProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '2.0' });
  });
});
