/** Stacks, functions and policy readers for the construct tests. */
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';

export const PRODUCER_ACCOUNT = '111111111111';
export const LISTENER_ACCOUNT = '222222222222';

/** A stack in a fixed account and region (so account comparisons resolve). */
export function newStack(account = PRODUCER_ACCOUNT, id = 'Test'): Stack {
  return new Stack(new App(), id, { env: { account, region: 'eu-west-1' } });
}

/** A function with inline code (no asset, no bundling). */
export function newFunction(stack: Stack, id: string): LambdaFunction {
  return new LambdaFunction(stack, id, {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
  });
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
}

/** The statements of every identity policy attached to the role of the function `functionId`. */
export function statementsOf(template: Template, stack: Stack, fn: LambdaFunction): Statement[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

/** Every action of some statements, sorted, duplicates kept. */
export function actionsIn(statements: readonly Statement[]): string[] {
  return statements.flatMap((statement) => [statement.Action].flat()).sort();
}

/** The actions allowed on resources whose JSON mentions `resource`. */
export function actionsOn(statements: readonly Statement[], resource: string | RegExp): string[] {
  return actionsIn(
    statements.filter((statement) => {
      const json = JSON.stringify(statement.Resource);
      return typeof resource === 'string' ? json.includes(resource) : resource.test(json);
    }),
  );
}
