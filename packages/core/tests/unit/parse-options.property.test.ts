import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigurationError } from '../../src/index';
import { awsClientOption, functionOption, parseOptions } from '../../src/internal';

const schema = z
  .strictObject({
    tableName: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name'),
    pageSize: z.int().min(1).max(100).default(10),
    mode: z.enum(['a', 'b']).default('a'),
    retry: z
      .strictObject({ retries: z.int().min(0).default(3), factor: z.number().min(1).default(2) })
      .default({
        retries: 3,
        factor: 2,
      }),
    clock: functionOption<() => Date>('a function returning a Date').optional(),
    dynamodb: awsClientOption('DynamoDBClient').optional(),
  })
  .superRefine((options, ctx) => {
    if (options.mode === 'b' && options.pageSize > 50) {
      ctx.addIssue({
        code: 'custom',
        path: ['pageSize'],
        message: 'expected at most 50 in mode b',
        input: 0,
      });
    }
  });

/** Only ever given under `credentials`: the one place an option holds a secret. */
const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
const KEYS = ['tableName', 'pageSize', 'mode', 'retry', 'clock', 'dynamodb', 'tablename', 'extra'];
const value = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('events', 'a', 'b', 'x'.repeat(300)),
  fc.integer({ min: -5, max: 200 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(() => new Date()),
  fc.constant({ retries: 2 }),
  fc.constant({ retries: -1, factr: 2 }),
  fc.constant({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: SECRET } }),
  fc.constant({ credentials: { accessKeyId: '', secretAccessKey: SECRET, extra: SECRET } }),
  fc.constant({ credentials: { accessKeyId: 'AKIA', secretAccessKey: 42, sessionToken: SECRET } }),
);
const input = fc.oneof(
  fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 }),
  value,
  fc.array(value, { maxLength: 3 }),
);

const SCHEMA_KEYS = new Set(['tableName', 'pageSize', 'mode', 'retry', 'clock', 'dynamodb']);

/** The option named is the options object itself, one of its keys, or a key the schema declares. */
function namesARealOption(options: unknown, option: string): boolean {
  if (option === '') return true;
  const first = option.split('.')[0]!;
  const given = typeof options === 'object' && options !== null && Object.hasOwn(options, first);
  return given || SCHEMA_KEYS.has(first);
}

describe('parseOptions (seeded property)', () => {
  const seed = Number(process.env.TIDEMARK_SEED ?? 20261130);

  it(`accepts or refuses any input with a ConfigurationError naming a path, never printing a secret (seed ${seed})`, () => {
    console.info(`parseOptions property: seed ${seed} (set TIDEMARK_SEED to replay)`);
    fc.assert(
      fc.property(input, (options) => {
        let parsed: unknown;
        try {
          parsed = parseOptions(schema, options, { factory: 'createThing' });
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigurationError);
          const refusal = error as ConfigurationError;
          expect(refusal.factory).toBe('createThing');
          expect(typeof refusal.option).toBe('string');
          expect(namesARealOption(options, refusal.option!)).toBe(true);
          expect(refusal.message.startsWith('createThing: ')).toBe(true);
          expect(refusal.issues.length).toBeGreaterThan(0);
          const printed = JSON.stringify({ message: refusal.message, context: refusal.context });
          expect(printed).not.toContain(SECRET);
          expect(refusal.received === undefined || refusal.received.length <= 80).toBe(true);
          return;
        }
        // Accepted: the schema itself agrees, and defaults are applied.
        expect(schema.safeParse(options).success).toBe(true);
        expect(parsed).toMatchObject({ pageSize: expect.any(Number), mode: expect.stringMatching(/^[ab]$/) });
      }),
      { seed, numRuns: 3000 },
    );
  });
});
