import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError, TidemarkError } from '../../src/index';
import { awsClientOption, functionOption, parseOptions } from '../../src/internal';

const schema = z.strictObject({
  tableName: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name'),
  pageSize: z.int().min(1).max(100).default(10),
  retry: z.strictObject({ retries: z.int().min(0).default(3) }).default({ retries: 3 }),
  clock: functionOption<() => Date>('a function returning a Date').optional(),
  dynamodb: awsClientOption('DynamoDBClient').optional(),
});
const factory = 'createThing';

function failure(input: unknown): ConfigurationError {
  try {
    parseOptions(schema, input, { factory });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toBeInstanceOf(TidemarkError);
    return error as ConfigurationError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('parseOptions', () => {
  it('returns the parsed options with defaults applied, keeping functions and clients as given', () => {
    const clock = () => new Date(0);
    const client = { send: async () => ({}), config: {} };
    const parsed = parseOptions(schema, { tableName: 'events', clock, dynamodb: client }, { factory });
    expect(parsed).toEqual({
      tableName: 'events',
      pageSize: 10,
      retry: { retries: 3 },
      clock,
      dynamodb: client,
    });
    expect(parsed.clock).toBe(clock);
    expect(parsed.dynamodb).toBe(client);
  });

  it('names an unknown key, with its dotted path and the keys that exist there', () => {
    const error = failure({ tableName: 'events', retry: { retires: 2 } });
    expect(error.code).toBe('CONFIGURATION_INVALID');
    expect(error.factory).toBe(factory);
    expect(error.option).toBe('retry.retires');
    expect(error.received).toBe('2');
    expect(error.message).toBe('createThing: unknown option "retry.retires"; expected one of retries');
    expect(error.context).toMatchObject({ factory, option: 'retry.retires' });
    expect(error.cause).toBeInstanceOf(z.ZodError);
  });

  it('puts the unknown key first when a misspelt required option also leaves it missing', () => {
    const error = failure({ tablename: 'events' });
    expect(error.option).toBe('tablename');
    expect(error.message).toContain('unknown option "tablename"; expected one of tableName, pageSize');
    expect(error.message).toContain('also: tableName:');
    expect(error.issues.map((issue) => issue.path)).toEqual(['', 'tableName']);
  });

  it('names a bad value, what was expected and what was received', () => {
    const error = failure({ tableName: 'ab' });
    expect(error.option).toBe('tableName');
    expect(error.received).toBe('"ab"');
    expect(error.message).toBe('createThing: tableName: expected a DynamoDB table name; received "ab"');
    expect(failure({ tableName: 'events', pageSize: 0 }).option).toBe('pageSize');
    expect(failure({ tableName: 'events', pageSize: 1.5 }).received).toBe('1.5');
    expect(failure({ tableName: 'events', clock: 'now' }).message).toBe(
      'createThing: clock: expected a function returning a Date; received "now"',
    );
  });

  it('refuses options that are not an object', () => {
    for (const input of [undefined, null, 'events', 42, []]) {
      const error = failure(input);
      expect(error.option).toBe('');
      expect(error.message).toMatch(/^createThing: options: /);
    }
  });

  it('checks an AWS client config strictly and accepts any SDK-shaped client', () => {
    expect(failure({ tableName: 'events', dynamodb: { regoin: 'eu-west-1' } }).option).toBe(
      'dynamodb.regoin',
    );
    expect(failure({ tableName: 'events', dynamodb: 'eu-west-1' }).message).toBe(
      'createThing: dynamodb: expected a DynamoDBClient or a client config { region?, endpoint?, credentials?, maxAttempts? }; received "eu-west-1"',
    );
    const error = failure({
      tableName: 'events',
      dynamodb: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 42 } },
    });
    expect(error.option).toBe('dynamodb.credentials.secretAccessKey');
    expect(
      failure({
        tableName: 'events',
        dynamodb: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x', sessionToken: 7 } },
      }).received,
    ).toBe('7');
  });

  it('never prints a secret it received', () => {
    const error = failure({
      tableName: 'events',
      dynamodb: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'very-secret-value' }, extra: 'x' },
    });
    expect(error.option).toBe('dynamodb.extra');
    expect(JSON.stringify({ ...error.context, message: error.message })).not.toContain('very-secret-value');
    const secret = failure({
      tableName: 'events',
      dynamodb: { credentials: { accessKeyId: '', secretAccessKey: 'very-secret-value' } },
    });
    expect(secret.option).toBe('dynamodb.credentials.accessKeyId');
    expect(secret.received).toBe('a string of 0 characters');
    expect(JSON.stringify({ ...secret.context, message: secret.message })).not.toContain('very-secret-value');
  });

  it('accepts the keys the SDK writes into credentials it was given (a config shared by clients)', () => {
    const credentials = {
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      $source: { CREDENTIALS_CODE: 'e' },
    };
    const parsed = parseOptions(
      schema,
      { tableName: 'events', dynamodb: { region: 'eu-west-1', credentials } },
      {
        factory,
      },
    );
    expect(parsed.dynamodb).toEqual({ region: 'eu-west-1', credentials });
  });

  it('summarises every issue in context, each with its path', () => {
    const error = failure({ tableName: 'ab', pageSize: 0, extra: true });
    expect(error.option).toBe('extra');
    expect(error.issues.map((issue) => issue.path)).toEqual(['', 'tableName', 'pageSize']);
    expect(error.context.issues).toEqual(error.issues);
  });
});
