#!/usr/bin/env node
/**
 * `tidemark-dead-letters`: list, show, delete and redrive a consumer's parked records.
 *
 *   tidemark-dead-letters list    --consumer <name> --table <table> [--limit 50] [--cursor <c>] [--all] [--json]
 *   tidemark-dead-letters show    <id> --consumer <name> --table <table> [--json]
 *   tidemark-dead-letters delete  <id...> --consumer <name> --table <table>
 *   tidemark-dead-letters redrive <id...> | --all   --module <file> [--export <name>]
 *   tidemark-dead-letters gaps        --module <file>   (aggregates holding records behind a gap)
 *   tidemark-dead-letters expire-gaps --module <file>   (park and skip gaps older than gapTimeoutSeconds)
 *
 * Redrive re-runs records through the consumer's handlers, so it loads the module that creates the
 * consumer (`--module ./dist/handler.js`, or a TypeScript module through tsx when it is installed;
 * the export named by `--export`, else the default export, else the only consumer exported; a
 * middy handler hides its consumer, so such a module exports the consumer as well). That module then talks to AWS as it does in Lambda (its own
 * client, configured from the environment). Every command also accepts `--module` instead of
 * `--consumer`/`--table`. `--region` and `--endpoint` configure the client of the other commands
 * (default: `AWS_REGION`, `AWS_ENDPOINT_URL`, …).
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describeErrorText, resolveAwsClientConfig } from '@tidemark/core/internal';
import { type Consumer, isConsumer } from './consumer';
import { createDeadLetters, type DeadLetters } from './dead-letters';
import { ConsumerModuleError } from './errors';
import { importModule } from './load-module';
import type { DeadLetter } from './types';

/** Where the CLI writes, and what it may be given instead of real AWS (for tests). */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** The DynamoDB client for `--table` mode. Default: one from `--region`/`--endpoint` and the environment. */
  readonly dynamodb?: DynamoDBClient;
}

const USAGE = `Usage: tidemark-dead-letters <command> [options]

Commands:
  list                 list parked records (id, reason, aggregate, version, parked at)
  show <id>            print one parked record, its error and its raw record
  delete <id...>       delete parked records
  redrive <id...>      re-run parked records through the consumer's handlers (needs --module)
  redrive --all        redrive every parked record of the consumer
  gaps                 list aggregates holding records behind a gap (needs --module)
  expire-gaps          park and skip over gaps open longer than gapTimeoutSeconds (needs --module)

Options:
  --consumer <name>    the consumer's name            (or --module)
  --table <table>      the table it parks records in  (or --module)
  --module <file>      a module exporting the consumer made by createConsumer (.js; .ts through tsx
                       when it is installed, or Node.js type stripping)
  --export <name>      which export of --module (default: the default export, else the only consumer)
  --limit <n>          page size of list (default 50)
  --cursor <c>         continue a list from this cursor
  --all                list: every page; redrive: every parked record
  --json               print JSON (one object per line)
  --region <region>    AWS region (default: AWS_REGION)
  --endpoint <url>     DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL)
  -h, --help           this help`;

/**
 * Runs the CLI with the given arguments; returns the exit code (0 done, 1 failed, 2 usage error).
 * The `tidemark-dead-letters` bin calls it with `process.argv.slice(2)`.
 *
 * @example
 * ```ts
 * process.exitCode = await runDeadLettersCli(['list', '--consumer', 'task-read-model', '--table', 'consumer-state']);
 * ```
 */
export async function runDeadLettersCli(argv: readonly string[], io: CliIo = consoleIo()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...ids] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.stdout : io.stderr)(USAGE);
    return values.help ? 0 : 2;
  }
  if (!['list', 'show', 'delete', 'redrive', 'gaps', 'expire-gaps'].includes(command)) {
    io.stderr(`Unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if ((command === 'show' || command === 'delete') && ids.length === 0) {
    io.stderr(`${command} needs the id of a dead letter (see list)`);
    return 2;
  }
  if (command === 'redrive' && ids.length === 0 && !values.all) {
    io.stderr('redrive needs dead-letter ids or --all');
    return 2;
  }
  if (['redrive', 'gaps', 'expire-gaps'].includes(command) && values.module === undefined) {
    io.stderr(`${command} needs the consumer: pass --module <file> exporting the consumer (createConsumer)`);
    return 2;
  }
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    io.stderr('--limit must be an integer from 1 to 1000');
    return 2;
  }

  try {
    let consumer: Consumer | undefined;
    let store: DeadLetters | Consumer['deadLetters'];
    if (values.module !== undefined) {
      consumer = await loadConsumer(values.module, values.export);
      store = consumer.deadLetters;
    } else {
      if (values.consumer === undefined || values.table === undefined) {
        io.stderr('Pass --consumer <name> and --table <table>, or --module <file>');
        return 2;
      }
      const dynamodb =
        io.dynamodb ??
        new DynamoDBClient(
          resolveAwsClientConfig(
            {
              ...(values.region === undefined ? {} : { region: values.region }),
              ...(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
            },
            'dynamodb',
          ),
        );
      store = createDeadLetters({ consumer: values.consumer, tableName: values.table, dynamodb });
    }

    switch (command) {
      case 'list': {
        let cursor = values.cursor;
        let count = 0;
        do {
          const page = await store.list({ limit, ...(cursor === undefined ? {} : { cursor }) });
          for (const letter of page.items)
            io.stdout(values.json ? JSON.stringify(letter) : summaryLine(letter));
          count += page.items.length;
          cursor = page.cursor;
          if (!values.all && cursor !== undefined && !values.json) io.stdout(`… more: --cursor ${cursor}`);
        } while (values.all && cursor !== undefined);
        if (!values.json) io.stdout(`${count} dead letter${count === 1 ? '' : 's'}`);
        return 0;
      }
      case 'show': {
        for (const id of ids) {
          const letter = await store.get(id);
          io.stdout(values.json ? JSON.stringify(letter) : detail(letter));
        }
        return 0;
      }
      case 'delete': {
        for (const id of ids) {
          await store.delete(id);
          io.stdout(`deleted ${id}`);
        }
        return 0;
      }
      case 'gaps': {
        const gaps = await consumer!.gaps.list();
        for (const gap of gaps) {
          io.stdout(
            values.json
              ? JSON.stringify(gap)
              : `${gap.aggregate.type}#${gap.aggregate.id}\topen since ${gap.openSince}`,
          );
        }
        if (!values.json) io.stdout(`${gaps.length} open gap${gaps.length === 1 ? '' : 's'}`);
        return 0;
      }
      case 'expire-gaps': {
        const result = await consumer!.gaps.expire();
        io.stdout(
          values.json
            ? JSON.stringify(result)
            : `expired ${result.expired}, still open ${result.open}, stale ${result.stale}, events applied ${result.applied}`,
        );
        return 0;
      }
      default: {
        const deadLetters = consumer!.deadLetters;
        const targets = [...ids];
        if (values.all) {
          let cursor: string | undefined;
          do {
            const page = await deadLetters.list({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
            for (const letter of page.items) if (letter.reason !== 'gap-expired') targets.push(letter.id);
            cursor = page.cursor;
          } while (cursor !== undefined);
        }
        let failed = 0;
        for (const id of targets) {
          try {
            const result = await deadLetters.redrive(id);
            if (result.outcome === 'parked') failed += 1;
            io.stdout(
              values.json
                ? JSON.stringify(result)
                : `${id}: ${result.outcome}${result.deadLetter ? ` (${result.deadLetter.reason}: ${result.deadLetter.message})` : ''}`,
            );
          } catch (error) {
            failed += 1;
            io.stderr(`${id}: ${describeErrorText(error)}`);
          }
        }
        io.stdout(`redriven ${targets.length - failed} of ${targets.length}`);
        return failed === 0 ? 0 : 1;
      }
    }
  } catch (error) {
    io.stderr(describeErrorText(error));
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      consumer: { type: 'string' },
      table: { type: 'string' },
      module: { type: 'string' },
      export: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Loads the consumer a module exports. */
async function loadConsumer(path: string, exportName: string | undefined): Promise<Consumer> {
  const module = await importModule(path);
  if (exportName !== undefined) {
    const value = module[exportName];
    if (!isConsumer(value)) {
      throw new ConsumerModuleError(
        path,
        `Export "${exportName}" of ${path} is not a consumer made by createConsumer${typeof value === 'function' ? MIDDY_HINT : ''}`,
        { export: exportName, exports: Object.keys(module) },
      );
    }
    return value;
  }
  if (isConsumer(module.default)) return module.default;
  const consumers = Object.entries(module).filter(([, value]) => isConsumer(value));
  if (consumers.length === 1) return consumers[0]![1] as Consumer;
  throw new ConsumerModuleError(
    path,
    consumers.length === 0
      ? `${path} exports no consumer made by createConsumer (exports: ${Object.keys(module).join(', ') || 'none'})${MIDDY_HINT}`
      : `${path} exports several consumers (${consumers.map(([name]) => name).join(', ')}): pick one with --export`,
    { exports: Object.keys(module) },
  );
}

/** A middy handler hides the consumer inside its middleware: the module must export the consumer too. */
const MIDDY_HINT =
  '. A handler wrapped by middy (consumerMiddleware) hides its consumer: create it with createConsumer, ' +
  'export it, and pass it to the middleware: `export const consumer = createConsumer({...}); ' +
  'export const handler = middy().use(consumerMiddleware(consumer));` (then --export consumer, if the ' +
  'module exports another consumer too)';

function summaryLine(letter: DeadLetter): string {
  const where = letter.aggregate ? `${letter.aggregate.type}#${letter.aggregate.id} v${letter.version}` : '-';
  return [letter.id, letter.reason, where, letter.eventType ?? '-', letter.parkedAt].join('\t');
}

function detail(letter: DeadLetter): string {
  const { record, ...rest } = letter;
  const data = Buffer.from(record.data, record.dataEncoding === 'text' ? 'utf8' : 'base64');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    text = `(binary, base64) ${record.data}`;
  }
  return [
    JSON.stringify(rest, null, 2),
    `record: sequence ${record.sequenceNumber}, shard event ${record.eventID}, partition key ${record.partitionKey}, arrived ${record.arrivedAt}, ${record.dataBytes} bytes${record.dataTruncated ? ' (truncated)' : ''}${record.batch ? ` (event ${record.batch.position + 1} of ${record.batch.size} packed in the record; the data is this event alone)` : ''}`,
    `data: ${text}`,
  ].join('\n');
}

function consoleIo(): CliIo {
  return { stdout: (line) => console.log(line), stderr: (line) => console.error(line) };
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly || process.argv[1]?.endsWith('tidemark-dead-letters')) {
  runDeadLettersCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
