import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDeadLettersCli } from '../../src/cli';
import * as fixture from '../helpers/cli-consumer-module';
import { kinesisEvent, lambdaContext, rawRecord, taskEnvelope } from '../helpers/events';

const MODULE = fileURLToPath(new URL('../helpers/cli-consumer-module.ts', import.meta.url));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: (line: string) => out.push(line),
      stderr: (line: string) => err.push(line),
      dynamodb: fixture.db as never,
    },
  };
}

describe('tidemark-dead-letters', () => {
  it('lists, shows and deletes dead letters by consumer and table', async () => {
    await fixture.handler(kinesisEvent([rawRecord('not json')]), lambdaContext());
    const table = ['--consumer', 'cli-consumer', '--table', 'consumer-state'];

    const list = io();
    expect(await runDeadLettersCli(['list', ...table], list.io)).toBe(0);
    const id = list.out[0]!.split('\t')[0]!;
    expect(list.out[0]).toContain('undecodable');
    expect(list.out.at(-1)).toBe('1 dead letter');

    const show = io();
    expect(await runDeadLettersCli(['show', id, ...table], show.io)).toBe(0);
    expect(show.out[0]).toContain('data: not json');

    const json = io();
    expect(await runDeadLettersCli(['list', ...table, '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out[0]!)).toMatchObject({ id, reason: 'undecodable' });

    const remove = io();
    expect(await runDeadLettersCli(['delete', id, ...table], remove.io)).toBe(0);
    const missing = io();
    expect(await runDeadLettersCli(['show', id, ...table], missing.io)).toBe(1);
    expect(missing.err[0]).toContain('DEAD_LETTER_NOT_FOUND');
  });

  it('shows an event of a packed record as that event alone, with its place in the record', async () => {
    const [v1, v2] = [taskEnvelope('p', 1), taskEnvelope('p', 2)];
    const bad = { ...v2, aggregateversion: 0 };
    const event = kinesisEvent([rawRecord(JSON.stringify([v1, bad, v2]), 'Task#p')]);
    await fixture.handler(event, lambdaContext());
    const table = ['--consumer', 'cli-consumer', '--table', 'consumer-state'];
    const id = `record#${event.Records[0]!.eventID}#1`;

    const show = io();
    expect(await runDeadLettersCli(['show', id, ...table], show.io)).toBe(0);

    const text = show.out.join('\n');
    expect(text).toContain('invalid-envelope');
    expect(text).toContain('(event 2 of 3 packed in the record; the data is this event alone)');
    expect(text).toContain(`data: ${JSON.stringify(bad)}`);
    const remove = io();
    expect(await runDeadLettersCli(['delete', id, ...table], remove.io)).toBe(0);
  });

  it('redrives through the consumer a module exports', async () => {
    fixture.failing.add('r@1');
    await fixture.handler(kinesisEvent([taskEnvelope('r', 1)]), lambdaContext());
    fixture.failing.clear();

    const run = io();
    const code = await runDeadLettersCli(['redrive', '--all', '--module', MODULE], run.io);

    expect(run.err).toEqual([]);
    expect(code).toBe(0);
    expect(run.out).toContain('event#Task#r#000000000001: applied');
    expect(fixture.applied).toContain('r@1');
  });

  it.each([
    [[], /Usage/],
    [['explode'], /Unknown command/],
    [['show', '--consumer', 'c', '--table', 'consumer-state'], /needs the id/],
    [['redrive', 'x', '--consumer', 'c', '--table', 'consumer-state'], /--module/],
    [['list'], /--consumer <name> and --table/],
    [['list', '--consumer', 'c', '--table', 'consumer-state', '--limit', '0'], /--limit/],
    [['list', '--bogus'], /Unknown option/],
  ])('answers usage errors with exit code 2: %j', async (argv, message) => {
    const run = io();
    expect(await runDeadLettersCli(argv, run.io)).toBe(2);
    expect(run.err.join('\n')).toMatch(message);
  });
});

describe('tidemark-dead-letters gaps', () => {
  it('lists open gaps and expires old ones through the consumer module', async () => {
    await fixture.handler(kinesisEvent([taskEnvelope('g', 1), taskEnvelope('g', 3)]), lambdaContext());

    const list = io();
    expect(await runDeadLettersCli(['gaps', '--module', MODULE], list.io)).toBe(0);
    expect(list.out[0]).toMatch(/^Task#g\topen since /);

    const sweep = io();
    expect(await runDeadLettersCli(['expire-gaps', '--module', MODULE, '--json'], sweep.io)).toBe(0);
    expect(JSON.parse(sweep.out[0]!)).toEqual({ open: 1, expired: 0, stale: 0, applied: 0 });
  });

  it('explains what a module exporting only a middy handler must export', async () => {
    const run = io();
    const middyOnly = fileURLToPath(new URL('../helpers/cli-middy-module.ts', import.meta.url));
    expect(await runDeadLettersCli(['gaps', '--module', middyOnly], run.io)).toBe(1);
    expect(run.err.join('\n')).toContain('exports no consumer made by createConsumer (exports: handler)');
    expect(run.err.join('\n')).toContain('export const consumer = createConsumer({...})');

    const withConsumer = fileURLToPath(new URL('../helpers/cli-middy-export-module.ts', import.meta.url));
    const ok = io();
    expect(await runDeadLettersCli(['gaps', '--module', withConsumer, '--json'], ok.io)).toBe(0);
  });

  it('needs the module', async () => {
    const run = io();
    expect(
      await runDeadLettersCli(['expire-gaps', '--consumer', 'c', '--table', 'consumer-state'], run.io),
    ).toBe(2);
    expect(run.err[0]).toMatch(/--module/);
  });
});
