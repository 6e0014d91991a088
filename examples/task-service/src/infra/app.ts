import { App } from 'aws-cdk-lib';
import { AccountPrincipal } from 'aws-cdk-lib/aws-iam';
import { type ApiAuthorization, TaskServiceStack } from './task-service-stack';

const app = new App();

/** A comma-separated context value as a list (`-c name=a,b`). */
const list = (name: string): string[] =>
  String(app.node.tryGetContext(name) ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');

// `-c jwtIssuer=https://… -c jwtAudience=client-id[,…] [-c jwtScopes=tasks/write]` protects the API
// with JWTs; without them callers sign with IAM (SigV4).
const issuer = app.node.tryGetContext('jwtIssuer') as string | undefined;
const apiAuthorization: ApiAuthorization =
  issuer === undefined
    ? { kind: 'iam' }
    : { kind: 'jwt', issuer, audience: list('jwtAudience'), scopes: list('jwtScopes') };

new TaskServiceStack(app, 'TidemarkTaskService', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  apiAuthorization,
  // `-c eventStreamReaders=222222222222[,…]`: accounts whose listeners may read the event stream.
  eventStreamReaders: list('eventStreamReaders').map((account) => new AccountPrincipal(account)),
});
app.synth();
