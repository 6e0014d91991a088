import { fileURLToPath } from 'node:url';
import { CONSUMER_TABLE_ACTIONS, STREAM_READ_ACTIONS } from '@tidemark/cdk';
import { CONSUMER_EVENT_SOURCE_SETTINGS } from '@tidemark/consumer';
import { ConfigurationError, TIDEMARK_METRICS } from '@tidemark/core';
import { PUBLISHER_EVENT_SOURCE_SETTINGS } from '@tidemark/publisher';
import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountPrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { TaskServiceStack, type TaskServiceStackProps } from '../../src/infra/task-service-stack';

const prebuilt = fileURLToPath(new URL('../fixtures/prebuilt-lambda', import.meta.url));

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const synth = (props: TaskServiceStackProps = {}) =>
  Template.fromStack(
    new TaskServiceStack(new App(), 'Test', {
      lambdaCode: { kind: 'asset', path: prebuilt },
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      ...props,
    }),
  );

/** The mapping's settings as the runtime constants name them. */
const mappingSettings = (properties: Record<string, unknown>) => ({
  startingPosition: properties.StartingPosition,
  reportBatchItemFailures: (properties.FunctionResponseTypes as string[] | undefined)?.includes(
    'ReportBatchItemFailures',
  ),
  maximumRetryAttempts: properties.MaximumRetryAttempts,
  maximumRecordAgeInSeconds: properties.MaximumRecordAgeInSeconds,
  bisectBatchOnFunctionError: properties.BisectBatchOnFunctionError,
});

describe('TaskServiceStack', () => {
  let template: Template;

  beforeAll(() => {
    template = synth();
  }, 120_000);

  /** The logical id of the function whose handler is `<entry>.handler`. */
  const functionId = (entry: string): string => {
    const ids = Object.keys(
      template.findResources('AWS::Lambda::Function', { Properties: { Handler: `${entry}.handler` } }),
    );
    expect(ids).toHaveLength(1);
    return ids[0]!;
  };

  /** The statements of the policies attached to a function's role, flattened. */
  const statementsOf = (entry: string): Statement[] => {
    const fn = template.toJSON().Resources[functionId(entry)];
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    return Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
  };
  const actionsOf = (entry: string): string[] =>
    statementsOf(entry)
      .flatMap((statement) => [statement.Action].flat())
      .sort();
  const actionsOn = (entry: string, resource: RegExp): string[] =>
    statementsOf(entry)
      .filter((statement) => resource.test(JSON.stringify(statement.Resource)))
      .flatMap((statement) => [statement.Action].flat())
      .sort();

  /** The mapping whose function is `<entry>.handler`. */
  const mappingOf = (entry: string) => {
    const mappings = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping', {
        Properties: { FunctionName: { Ref: functionId(entry) } },
      }),
    );
    expect(mappings).toHaveLength(1);
    return mappings[0]!.Properties as Record<string, unknown>;
  };

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
      expect(log.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  it('creates one on-demand, encrypted Kinesis stream', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      RetentionPeriodHours: 168,
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: Match.objectLike({ EncryptionType: 'KMS' }),
    });
  });

  it.each(['task-publisher', 'project-publisher'])(
    'maps its log stream to the %s with the publisher’s required settings',
    (entry) => {
      const mapping = mappingOf(entry);
      const { parallelizationFactor, ...required } = PUBLISHER_EVENT_SOURCE_SETTINGS;
      expect(mappingSettings(mapping)).toEqual(required);
      expect(mapping.ParallelizationFactor).toBe(parallelizationFactor);
      expect(JSON.stringify(mapping.EventSourceArn)).toMatch(/StreamArn/);
      expect(mapping.DestinationConfig).toEqual({
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/OnFailure/), 'Arn'] } },
      });
    },
  );

  it.each(['read-model-listener', 'projects-listener'])(
    'maps the Kinesis stream to the %s with the consumer’s required settings',
    (entry) => {
      const mapping = mappingOf(entry);
      expect(mappingSettings(mapping)).toEqual(CONSUMER_EVENT_SOURCE_SETTINGS);
      expect(mapping.EventSourceArn).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^EventsStream/), 'Arn'],
      });
      expect(mapping.DestinationConfig).toEqual({
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/OnFailure/), 'Arn'] } },
      });
    },
  );

  it('never lets Lambda give up on a record anywhere', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(4);
    for (const mapping of mappings) {
      expect(mapping.Properties.MaximumRetryAttempts).toBe(-1);
      expect(mapping.Properties.MaximumRecordAgeInSeconds).toBe(-1);
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('gives every function its own role and the node 22 runtime', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(6);
    expect(new Set(functions.map((fn) => JSON.stringify(fn.Properties.Role))).size).toBe(6);
    for (const fn of functions) expect(fn.Properties.Runtime).toBe('nodejs22.x');
  });

  it('lets the task API append to the task log, and only read the read model and projects', () => {
    expect(actionsOn('task-api', /TaskLog/)).toEqual(
      ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'].sort(),
    );
    expect(actionsOn('task-api', /TaskReadModel/)).toEqual(['dynamodb:GetItem']);
    expect(actionsOn('task-api', /KnownProjects/)).toEqual(['dynamodb:GetItem']);
    expect(JSON.stringify(statementsOf('task-api'))).not.toMatch(
      /dynamodb:(DeleteItem|UpdateItem|Scan|\*)|kinesis:|ProjectLog/,
    );
  });

  it('lets a publisher read its own log stream, query its log (split commands) and put records on the stream, nothing else', () => {
    const actions = actionsOf('task-publisher');
    expect(actions.filter((action) => action.startsWith('kinesis:'))).toEqual(['kinesis:PutRecords']);
    expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual(
      [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
        'dynamodb:Query',
      ].sort(),
    );
    const statements = JSON.stringify(statementsOf('task-publisher'));
    expect(statements).toMatch(/TaskLog/);
    expect(statements).not.toMatch(/ProjectLog|TaskReadModel|KnownProjects/);
  });

  it('lets no listener write to an event log it does not own, put records on the stream or use fan-out', () => {
    for (const entry of ['read-model-listener', 'projects-listener']) {
      const actions = actionsOf(entry);
      expect(actions.filter((action) => action.startsWith('kinesis:'))).toEqual(
        [...STREAM_READ_ACTIONS].sort(),
      );
      expect(actionsOn(entry, /ProjectLog/)).toEqual([]);
    }
    expect(actionsOn('read-model-listener', /TaskLog/)).toEqual([]);
    // The projects listener deletes a deleted project's tasks through the task commands: it appends.
    expect(actionsOn('projects-listener', /TaskLog/)).toEqual(
      ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'].sort(),
    );
  });

  it('lets each listener use its own checkpoint table with exactly the consumer’s operations', () => {
    for (const [entry, wiring] of [
      ['read-model-listener', /ReadModelListenerWiringCheckpoints/],
      ['projects-listener', /ProjectsListenerWiringCheckpoints/],
    ] as const) {
      expect(actionsOn(entry, wiring)).toEqual([...CONSUMER_TABLE_ACTIONS].sort());
    }
    expect(actionsOn('read-model-listener', /ProjectsListenerWiringCheckpoints/)).toEqual([]);
    // The read model is written in the checkpoint's transaction, and read before.
    expect(actionsOn('read-model-listener', /TaskReadModel/)).toEqual(
      [
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(JSON.stringify(statementsOf('read-model-listener'))).not.toMatch(/KnownProjects/);
    expect(JSON.stringify(statementsOf('projects-listener'))).not.toMatch(/TaskReadModel/);
  });

  it('alarms on every publisher’s and listener’s iterator age and Tidemark counters', () => {
    const metrics = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.MetricName as string,
    );
    const count = (name: string) => metrics.filter((metric) => metric === name).length;
    expect(count('IteratorAge')).toBe(4);
    expect(count('Errors')).toBe(2);
    expect(count(TIDEMARK_METRICS.publisher.historyRewrites)).toBe(2);
    expect(count(TIDEMARK_METRICS.publisher.unpublishableRecords)).toBe(2);
    expect(count(TIDEMARK_METRICS.consumer.recordsParked)).toBe(2);
    expect(count(TIDEMARK_METRICS.consumer.gapsExpired)).toBe(2);
    expect(count('ApproximateNumberOfMessagesVisible')).toBe(4);
  });

  it('routes the HTTP API (payload 2.0) to the task and project functions, with no anonymous route', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((route) => route.Properties.RouteKey as string).sort()).toEqual(
      [
        'DELETE /projects/{id}',
        'DELETE /tasks/{id}',
        'GET /tasks/{id}',
        'PATCH /tasks/{id}',
        'POST /projects',
        'POST /tasks',
      ].sort(),
    );
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    template.allResourcesProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '2.0' });
  });

  it('protects every route with a JWT authorizer when configured', () => {
    const jwt = synth({
      apiAuthorization: {
        kind: 'jwt',
        issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example',
        audience: ['client-id'],
        scopes: ['tasks/write'],
      },
    });
    jwt.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: {
        Issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example',
        Audience: ['client-id'],
      },
    });
    const routes = Object.values(jwt.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes).toHaveLength(6);
    for (const route of routes) {
      expect(route.Properties).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizationScopes: ['tasks/write'],
      });
    }
  }, 120_000);

  it('refuses a JWT authorizer without an https issuer or an audience', () => {
    expect(() =>
      synth({ apiAuthorization: { kind: 'jwt', issuer: 'http://issuer', audience: ['a'] } }),
    ).toThrow(ConfigurationError);
    expect(() =>
      synth({ apiAuthorization: { kind: 'jwt', issuer: 'https://issuer', audience: [] } }),
    ).toThrow(ConfigurationError);
  }, 120_000);

  it('lets listener accounts read the stream through its resource policy', () => {
    const shared = synth({ eventStreamReaders: [new AccountPrincipal('222222222222')] });
    const policy = Object.values(shared.findResources('AWS::Kinesis::ResourcePolicy'))[0]!.Properties;
    expect(JSON.stringify(policy.ResourcePolicy)).toContain('222222222222');
    expect(policy.ResourcePolicy.Statement[0].Action.sort()).toEqual([...STREAM_READ_ACTIONS].sort());
  }, 120_000);
});
