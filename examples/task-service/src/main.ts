/**
 * `npm start`: the whole architecture on an embedded local AWS, driven over HTTP, in one command.
 * `npm start -- serve` (or `tsx src/main.ts --serve --port 3000`): the same resources, but keeps the
 * API running for manual use instead of running the scenario. The port comes from `--port` or
 * `PORT` (default 3000). A bare `serve` is accepted because npm swallows `--serve` when the root
 * script forwards its arguments to the workspace.
 */
import type { DomainEvent } from '@tidemark/core';
import { type LocalAws, startLocalAws } from '@tidemark/testing';
import { type ListenerName, type LocalApp, startLocalApp } from './local/local-app';
import { checkOutcome, runScenario } from './local/scenario';

// The walkthrough narrates what happens; the packages' own JSON log lines (one per batch at `info`,
// as in Lambda) would interleave with it, so only their warnings and errors are shown here unless
// LOG_LEVEL (or AWS_LAMBDA_LOG_LEVEL / POWERTOOLS_LOG_LEVEL) says otherwise.
if (!process.env.LOG_LEVEL && !process.env.AWS_LAMBDA_LOG_LEVEL && !process.env.POWERTOOLS_LOG_LEVEL) {
  process.env.LOG_LEVEL = 'warn';
}

const args = process.argv.slice(2);
const serve = args.includes('--serve') || args.includes('serve');
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : serve ? Number(process.env.PORT ?? 3000) : 0;

const describeEvent = (event: DomainEvent) =>
  `v${event.version} ${event.type.padEnd(14)} ${event.aggregate.type}#${event.aggregate.id}`;

async function main(): Promise<number> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  let aws: LocalAws | undefined;
  let app: LocalApp | undefined;
  try {
    console.log(
      'Starting the local AWS (DynamoDB Local + kinesis-mock, or what AWS_ENDPOINT_URL / Docker give)…',
    );
    aws = await startLocalAws({ mode: 'auto' });
    console.log(`   ${aws.mode} local AWS at ${aws.endpoint} (${elapsed()})`);

    console.log('Creating the tables and the stream, starting the publishers, the listeners and the API…');
    app = await startLocalApp({
      aws,
      port: Number.isInteger(port) ? port : 0,
      ...(serve
        ? { onSeen: (listener, event) => console.log(`   [${listener}] ${describeEvent(event)}`) }
        : {}),
    });
    for (const [name, value] of Object.entries(app.resources)) console.log(`   ${name.padEnd(16)} ${value}`);
    console.log(`   API at ${app.url} (${elapsed()})`);

    if (serve) {
      printCurlLines(app.url);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      console.log('\nStopping…');
      return 0;
    }

    const result = await runScenario({ url: app.url });

    console.log('\nWaiting for the publishers and listeners to finish (drain)…');
    await app.settle();
    const listeners: ListenerName[] = ['read-model', 'projects', 'activity-feed'];
    for (const listener of listeners) {
      console.log(`\nWhat the ${listener} listener saw (${app.seen[listener].length} events):`);
      for (const event of app.seen[listener]) console.log(`   ${describeEvent(event)}`);
    }
    console.log('\nThe activity feed:');
    for (const entry of await app.feed()) console.log(`   ${entry.time}  ${entry.text}`);
    console.log('\nThe final read model:');
    for (const task of await app.tasks()) {
      const state = task.deleted ? 'deleted' : task.done ? 'done' : 'open';
      console.log(
        `   ${task.id}  v${task.version}  ${state.padEnd(7)}  ${task.name}${task.projectId ? `  (project ${task.projectId})` : ''}`,
      );
    }
    console.log('\nLambda invocations:', JSON.stringify(app.invocations()));

    const problems = await checkOutcome(app, result);
    if (problems.length > 0) {
      console.error('\nThe scenario ended in an unexpected state:');
      for (const problem of problems) console.error(`   - ${problem}`);
      return 1;
    }
    console.log(`\nAll checks passed in ${elapsed()}.`);
    return 0;
  } catch (error) {
    console.error('\nThe demo failed:', error);
    return 1;
  } finally {
    await app?.stop().catch((error: unknown) => console.error('Stopping the app failed:', error));
    await aws?.stop().catch((error: unknown) => console.error('Stopping the local AWS failed:', error));
  }
}

function printCurlLines(url: string): void {
  console.log(`
The API is running at ${url}; press Ctrl+C to stop. Try:

  curl -si -X POST ${url}/tasks -H 'content-type: application/json' -d '{"name":"Write the docs"}'
  curl -si ${url}/tasks/<id>
  curl -si -X PATCH ${url}/tasks/<id> -H 'if-match: "1"' -d '{"done":true}'
  curl -si -X DELETE ${url}/tasks/<id>
  curl -si -X POST ${url}/projects -d '{"name":"Launch"}'
  curl -si -X POST ${url}/tasks -d '{"name":"Book the venue","projectId":"<project id>"}'
  curl -si -X DELETE ${url}/projects/<project id>

Listener activity is printed below as it happens.
`);
}

process.exitCode = await main();
