import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { encodeEnvelope, TIDEMARK_METRICS } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../src/consumer';
import { ConsumerStoreError } from '../../src/errors';
import { history, kinesisEvent, memoryLogger, rawRecord, taskEnvelope, taskEvents } from '../helpers/events';
import { FakeDynamoDb, isCheckpointRequest } from '../helpers/fake-dynamodb';
import { ENTRY_POINTS, harness, NAME, TABLE } from '../helpers/harness';

describe.each(ENTRY_POINTS)('createConsumer through %s', (entry) => {
  describe('idempotency by high-water mark', () => {
    it('applies each aggregate in version order with one read and one checkpoint write per aggregate', async () => {
      const h = harness(entry);
      const event = kinesisEvent([...history('a', 1, 3), ...history('b', 1, 2)]);

      const response = await h.handle(event);

      expect(response).toEqual({ batchItemFailures: [] });
      expect(h.applied.filter((key) => key.startsWith('a@'))).toEqual(['a@1', 'a@2', 'a@3']);
      expect(h.applied.filter((key) => key.startsWith('b@'))).toEqual(['b@1', 'b@2']);
      expect(h.db.count('BatchGetItem')).toBe(1);
      expect(h.db.count('PutItem', isCheckpointRequest)).toBe(2);
      // The one extra request per batch: the in-flight marker.
      expect(h.db.markerWrites()).toBe(1);
      expect(h.db.count()).toBe(4);
      expect(h.checkpoint('a')).toMatchObject({ version: 3, revision: 1 });
      expect(h.summaries[0]).toMatchObject({
        records: 5,
        aggregates: 2,
        applied: 5,
        duplicates: 0,
        dynamodbRequests: 4,
      });
    });

    it('skips a whole redelivered batch with one read and no write', async () => {
      const h = harness(entry);
      const event = kinesisEvent([...history('a', 1, 3), ...history('b', 1, 2)]);
      await h.handle(event);
      const before = h.db.count();

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toHaveLength(5);
      expect(h.db.count() - before).toBe(1);
      expect(h.summaries[1]).toMatchObject({ applied: 0, duplicates: 5, dynamodbRequests: 1 });
    });

    it('applies shuffled and repeated records once each, in version order', async () => {
      const h = harness(entry);
      const [v1, v2, v3, v4] = history('a', 1, 4);

      await h.handle(kinesisEvent([v3!, v1!, v4!, v2!, v1!, v3!]));

      expect(h.applied).toEqual(['a@1', 'a@2', 'a@3', 'a@4']);
      expect(h.summaries[0]).toMatchObject({ applied: 4, duplicates: 2, gapsHeld: 0 });
    });

    it('records the command id and event id of the last event in the checkpoint', async () => {
      const h = harness(entry);
      const events = history('a', 1, 2);

      await h.handle(kinesisEvent(events));

      expect(h.checkpoint('a')).toMatchObject({
        version: 2,
        commandId: events[1]!.commandid,
        eventId: events[1]!.id,
        aggregateType: 'Task',
        aggregateId: 'a',
        consumer: NAME,
      });
    });

    it('reads the checkpoints of more than 100 aggregates in chunks of 100', async () => {
      const h = harness(entry);
      const envelopes = Array.from({ length: 150 }, (_, index) => taskEnvelope(`t${index}`, 1));

      await h.handle(kinesisEvent(envelopes));

      expect(h.db.count('BatchGetItem')).toBe(2);
      expect(h.db.count('PutItem', isCheckpointRequest)).toBe(150);
      expect(h.db.markerWrites()).toBe(1);
      expect(h.applied).toHaveLength(150);
    });

    it('retries unprocessed keys of the checkpoint read', async () => {
      const h = harness(entry);
      await h.handle(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('b', 1)]));
      h.db.unprocessedOnce = 1;

      await h.handle(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('b', 1)]));

      expect(h.db.count('BatchGetItem')).toBe(3);
      expect(h.applied).toEqual(['a@1', 'b@1']);
      expect(h.summaries[1]).toMatchObject({ duplicates: 2 });
    });
  });

  describe('first contact', () => {
    it('holds an unknown aggregate first seen past version 1 by default, and applies the earlier versions when they arrive', async () => {
      const h = harness(entry);

      await h.handle(kinesisEvent([taskEnvelope('a', 3), taskEnvelope('a', 2)]));
      expect(h.applied).toEqual([]);
      await h.handle(kinesisEvent([taskEnvelope('a', 1)]));

      expect(h.applied).toEqual(['a@1', 'a@2', 'a@3']);
      expect(h.summaries.reduce((sum, summary) => sum + summary.duplicates, 0)).toBe(0);
      expect(h.deadLetters()).toEqual([]);
    });

    it("starts mid-stream with firstContact 'any-version', reports the skipped versions and parks one that arrives after a later version was applied", async () => {
      const h = harness(entry, { firstContact: 'any-version' });

      await h.handle(kinesisEvent([taskEnvelope('a', 6), taskEnvelope('a', 5)]));
      await h.handle(kinesisEvent([taskEnvelope('a', 2)]));

      expect(h.applied).toEqual(['a@5', 'a@6']);
      expect(h.checkpoint('a')).toMatchObject({ version: 6 });
      expect(h.summaries[0]).toMatchObject({ firstContactSkips: 4 });
      expect(h.logger.lines.some((line) => line.level === 'warn' && /mid-stream/.test(line.message))).toBe(
        true,
      );
      expect(h.deadLetters()).toEqual([
        expect.objectContaining({ reason: 'arrived-before-first-contact', version: 2 }),
      ]);
      expect(h.summaries[1]).toMatchObject({ duplicates: 0, parked: 1 });
    });

    it("treats anything but version 1 as a gap with firstContact 'require-first'", async () => {
      const h = harness(entry, { firstContact: 'require-first' });

      const response = await h.handle(kinesisEvent([taskEnvelope('a', 2)]));

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual([]);
      expect(h.checkpoint('a')).toMatchObject({ version: 0 });
      expect(h.held('a').map((item) => item.version)).toEqual([2]);
    });
  });

  describe('gaps', () => {
    it('holds a record beyond the next version durably, without failing the batch', async () => {
      const h = harness(entry);
      const [v1, , v3] = history('a', 1, 3);

      const response = await h.handle(kinesisEvent([v1!, v3!]));

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(['a@1']);
      expect(h.checkpoint('a')).toMatchObject({ version: 1, held: { 3: { eventId: v3!.id } } });
      expect(h.held('a')).toHaveLength(1);
      expect(h.summaries[0]).toMatchObject({ applied: 1, gapsHeld: 1 });
    });

    it('applies held records when the missing version arrives in a later batch, then deletes them', async () => {
      const h = harness(entry);
      const [v1, v2, v3, v4] = history('a', 1, 4);
      await h.handle(kinesisEvent([v1!, v3!, v4!]));

      await h.handle(kinesisEvent([v2!]));

      expect(h.applied).toEqual(['a@1', 'a@2', 'a@3', 'a@4']);
      expect(h.checkpoint('a')).toMatchObject({ version: 4 });
      expect(h.checkpoint('a')!.held).toBeUndefined();
      expect(h.held('a')).toEqual([]);
      expect(h.summaries[1]).toMatchObject({ applied: 3, gapsClosed: 2 });
    });

    it('holds a record larger than a DynamoDB item in chunks and applies it whole when the gap closes', async () => {
      const h = harness(entry);
      const big = taskEnvelope('a', 3, { data: { name: 'x'.repeat(800_000), reason: 'big' } });
      const [v1, v2] = history('a', 1, 2);
      await h.handle(kinesisEvent([v1!, big]));

      const chunks = h.db.items(TABLE).filter((item) => item.sk!.S!.startsWith('held#000000000003'));
      expect(chunks.map((item) => item.sk!.S)).toEqual([
        'held#000000000003',
        'held#000000000003#001',
        'held#000000000003#002',
      ]);
      expect(h.checkpoint('a')).toMatchObject({ held: { 3: { chunks: 3 } } });

      await h.handle(kinesisEvent([v2!]));

      expect(h.applied).toEqual(['a@1', 'a@2', 'a@3']);
      expect(h.db.items(TABLE).filter((item) => item.sk!.S!.startsWith('held#'))).toEqual([]);
    });

    it('counts a held record delivered again as a duplicate', async () => {
      const h = harness(entry);
      const [v1, , v3] = history('a', 1, 3);
      await h.handle(kinesisEvent([v1!, v3!]));

      await h.handle(kinesisEvent([v3!]));

      expect(h.summaries[1]).toMatchObject({ duplicates: 1, gapsHeld: 0 });
      expect(h.held('a')).toHaveLength(1);
    });

    it('reads held records only for aggregates that have some', async () => {
      const h = harness(entry);
      const [v1, v2, v3] = history('a', 1, 3);
      await h.handle(kinesisEvent([v1!, v3!, taskEnvelope('b', 1)]));
      const before = h.db.count('BatchGetItem');

      await h.handle(kinesisEvent([v2!]));

      expect(h.db.count('BatchGetItem') - before).toBe(2);
      const heldRead = h.db.requests.filter((request) => request.operation === 'BatchGetItem').at(-1)!;
      expect(JSON.stringify(heldRead.input)).toContain('held#000000000003');
    });

    it('does not read held records while the batch cannot close their gap', async () => {
      const h = harness(entry);
      const [v1, , v3, v4, v5] = history('a', 1, 5);
      await h.handle(kinesisEvent([v1!, v3!]));
      const before = h.db.count('BatchGetItem');

      await h.handle(kinesisEvent([v4!, v5!]));

      expect(h.db.count('BatchGetItem') - before).toBe(1);
      expect(h.held('a').map((item) => item.version)).toEqual([3, 4, 5]);
      expect(h.checkpoint('a')).toMatchObject({ version: 1 });
    });

    it('parks an expired gap, jumps the checkpoint past the missing versions and applies what was held', async () => {
      const h = harness(entry, { gapTimeoutSeconds: 60 });
      const [v1, , v3, v4] = history('a', 1, 4);
      await h.handle(kinesisEvent([v1!, v3!]));
      h.now = new Date(h.now.getTime() + 61_000);

      const response = await h.handle(kinesisEvent([v4!]));

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(['a@1', 'a@3', 'a@4']);
      expect(h.checkpoint('a')).toMatchObject({ version: 4 });
      const [letter] = h.deadLetters();
      expect(letter).toMatchObject({ reason: 'gap-expired', missing: { from: 2, to: 2 }, version: 3 });
      expect(h.summaries[1]).toMatchObject({ gapsExpired: 1, parked: 0, gapsClosed: 1, applied: 2 });
    });

    it('keeps a gap younger than gapTimeoutSeconds open', async () => {
      const h = harness(entry, { gapTimeoutSeconds: 60 });
      const [v1, , v3, v4] = history('a', 1, 4);
      await h.handle(kinesisEvent([v1!, v3!]));
      h.now = new Date(h.now.getTime() + 59_000);

      await h.handle(kinesisEvent([v4!]));

      expect(h.applied).toEqual(['a@1']);
      expect(h.held('a').map((item) => item.version)).toEqual([3, 4]);
      expect(h.deadLetters()).toEqual([]);
    });

    it('gives up on a gap at once with gapTimeoutSeconds 0', async () => {
      const h = harness(entry, { gapTimeoutSeconds: 0 });

      await h.handle(kinesisEvent([taskEnvelope('a', 1), taskEnvelope('a', 4)]));

      expect(h.applied).toEqual(['a@1', 'a@4']);
      expect(h.deadLetters()[0]).toMatchObject({ reason: 'gap-expired', missing: { from: 2, to: 3 } });
    });

    it('expires a gap that holds more than maxHeldPerAggregate records (not taking the far ones for implausible)', async () => {
      const h = harness(entry, { maxHeldPerAggregate: 2 });
      const envelopes = history('a', 1, 5);

      await h.handle(kinesisEvent([envelopes[0]!, envelopes[2]!, envelopes[3]!, envelopes[4]!]));

      expect(h.applied).toEqual(['a@1', 'a@3', 'a@4', 'a@5']);
      expect(h.summaries[0]).toMatchObject({ gapsExpired: 1 });
    });
  });

  describe('ordering after a failure', () => {
    it("stops a failing aggregate, lets the others go on and names the failed record's sequence number", async () => {
      const h = harness(entry);
      h.failing.add('a@2');
      const a = history('a', 1, 3);
      const b = history('b', 1, 3);
      const event = kinesisEvent([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]);

      const response = await h.handle(event);

      expect(h.applied).toEqual(expect.arrayContaining(['a@1', 'b@1', 'b@2', 'b@3']));
      expect(h.applied).not.toContain('a@3');
      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: event.Records[2]!.kinesis.sequenceNumber },
      ]);
      expect(h.checkpoint('a')).toMatchObject({ version: 1, failure: { version: 2, attempts: 1 } });
      expect(h.checkpoint('b')).toMatchObject({ version: 3 });
      expect(h.summaries[0]).toMatchObject({ handlerFailures: 1, failed: 2 });
    });

    it('names the lowest sequence number when several aggregates fail', async () => {
      const h = harness(entry);
      h.failing.add('b@1');
      h.failing.add('a@2');
      const event = kinesisEvent([taskEnvelope('a', 1), taskEnvelope('b', 1), taskEnvelope('a', 2)]);

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: event.Records[1]!.kinesis.sequenceNumber },
      ]);
    });

    it('applies the failed event on redelivery and skips what was already applied', async () => {
      const h = harness(entry);
      h.failing.add('a@2');
      const event = kinesisEvent([...history('a', 1, 3), taskEnvelope('b', 1)]);
      await h.handle(event);
      h.failing.clear();

      const response = await h.handle({ Records: event.Records.slice(1) });

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(expect.arrayContaining(['a@1', 'b@1']));
      expect(h.applied.slice(2)).toEqual(['a@2', 'a@3']);
      expect(h.checkpoint('a')!.failure).toBeUndefined();
    });

    it('parks an event after maxAttempts failures, kept across deliveries, and lets later events flow', async () => {
      const h = harness(entry, { maxAttempts: 3 });
      h.failing.add('a@2');
      const event = kinesisEvent(history('a', 1, 3));

      const first = await h.handle(event);
      const second = await h.handle(event);
      const third = await h.handle(event);

      expect(first.batchItemFailures).toHaveLength(1);
      expect(second.batchItemFailures).toHaveLength(1);
      expect(third.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(['a@1', 'a@3']);
      expect(h.checkpoint('a')).toMatchObject({ version: 3, parked: new Set([2]) });
      expect(h.deadLetters()[0]).toMatchObject({ reason: 'handler-failed', attempts: 3, version: 2 });
    });

    it('gives a failing held event its next attempt when a record of its aggregate is redelivered', async () => {
      const h = harness(entry);
      const [v1, v2, v3] = history('a', 1, 3);
      await h.handle(kinesisEvent([v1!, v3!]));
      h.failing.add('a@3');
      const event = kinesisEvent([v2!]);

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: event.Records[0]!.kinesis.sequenceNumber },
      ]);
      h.failing.clear();
      await h.handle(event);
      expect(h.applied).toEqual(['a@1', 'a@2', 'a@3']);
    });
  });

  describe('bad input never blocks the shard', () => {
    it('parks undecodable data and invalid envelopes with the raw record and goes on', async () => {
      const h = harness(entry);
      const event = kinesisEvent([
        rawRecord('not json at all'),
        taskEnvelope('a', 1),
        rawRecord(JSON.stringify({ hello: 'world' })),
      ]);
      const notJson = event.Records[0]!;

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(['a@1']);
      const letters = h.deadLetters();
      expect(letters.map((letter) => letter.reason).sort()).toEqual(['invalid-envelope', 'undecodable']);
      const undecodable = letters.find((letter) => letter.reason === 'undecodable')!;
      expect(undecodable).toMatchObject({
        id: `record#${notJson.eventID}`,
        attempts: 0,
        error: { name: 'EnvelopeDecodeError', code: 'ENVELOPE_UNDECODABLE' },
        record: {
          sequenceNumber: notJson.kinesis.sequenceNumber,
          partitionKey: 'Task#x',
          eventSourceARN: notJson.eventSourceARN,
          arrivedAt: '2026-09-21T14:13:20.500Z',
        },
      });
      expect(Buffer.from((undecodable.record as { data: Uint8Array }).data).toString()).toBe(
        'not json at all',
      );
      expect(h.summaries[0]).toMatchObject({ parked: 2, applied: 1 });
    });

    it('parks data that is not base64 as undecodable, keeping the text as it came', async () => {
      const h = harness(entry);
      const event = kinesisEvent([taskEnvelope('a', 1), rawRecord('x')]);
      const record = event.Records[1]!;
      const mangled = {
        Records: [event.Records[0]!, { ...record, kinesis: { ...record.kinesis, data: '%%%not base64' } }],
      };

      const response = await h.handle(mangled);

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(['a@1']);
      expect(h.deadLetters()).toEqual([
        expect.objectContaining({
          reason: 'undecodable',
          record: expect.objectContaining({ dataEncoding: 'text' }),
        }),
      ]);
    });

    it('parks a payload that fails its schema and records the parked version so later events flow', async () => {
      const h = harness(entry);
      const bad = taskEnvelope('a', 2, { data: { name: '' } });

      await h.handle(kinesisEvent([taskEnvelope('a', 1), bad, taskEnvelope('a', 3)]));

      expect(h.applied).toEqual(['a@1', 'a@3']);
      expect(h.checkpoint('a')).toMatchObject({ version: 3, parked: new Set([2]) });
      expect(h.deadLetters()[0]).toMatchObject({
        reason: 'invalid-payload',
        id: 'event#Task#a#000000000002',
        version: 2,
        eventType: 'TaskRenamed',
        error: { code: 'PAYLOAD_INVALID' },
      });
    });

    it("parks an unsupported schema version with unreadableEvents: 'park' and upcasts an older one", async () => {
      const h = harness(entry, { unreadableEvents: 'park' });
      const newer = taskEnvelope('a', 2, { schemaVersion: 3 });
      const older = taskEnvelope('a', 3, { schemaVersion: 1, data: { name: 'old' } });

      await h.handle(kinesisEvent([taskEnvelope('a', 1), newer, older]));

      expect(h.applied).toEqual(['a@1', 'a@3']);
      expect(h.deadLetters()[0]).toMatchObject({ reason: 'unsupported-schema-version', version: 2 });
    });

    it('holds an aggregate at an event it cannot read yet, by default, and goes on with the others', async () => {
      const h = harness(entry);
      const newer = taskEnvelope('a', 2, { schemaVersion: 3 });

      const response = await h.handle(
        kinesisEvent([taskEnvelope('a', 1), newer, taskEnvelope('a', 3), ...history('b', 1, 3)]),
      );

      expect(response.batchItemFailures).toEqual([]);
      expect(h.applied).toEqual(['a@1', 'b@1', 'b@2', 'b@3']);
      expect(h.checkpoint('a')).toMatchObject({ version: 1 });
      expect(h.held('a').map((item) => item.sk)).toHaveLength(2);
      expect(h.deadLetters()).toEqual([]);
      expect(h.summaries[0]).toMatchObject({ unreadable: 1, parked: 0, failed: 0, handlerFailures: 0 });
      expect(h.logger.lines.filter((line) => line.level === 'error')).toEqual([
        expect.objectContaining({
          message: expect.stringContaining('cannot read TaskRenamed at schema version 3'),
        }),
      ]);

      // Delivered again and then with a later record: still held, met again, no attempt counted.
      await h.handle(kinesisEvent([newer, taskEnvelope('a', 4)]));
      expect(h.applied).toEqual(['a@1', 'b@1', 'b@2', 'b@3']);
      expect(h.summaries[1]).toMatchObject({ unreadable: 1, failed: 0 });
      expect(h.checkpoint('a')).not.toHaveProperty('failure');
      expect(h.held('a')).toHaveLength(3);
    });

    it('parks an event it cannot read yet when more than maxHeldPerAggregate records would wait behind it', async () => {
      const h = harness(entry, { maxHeldPerAggregate: 2 });
      const newer = taskEnvelope('a', 2, { schemaVersion: 3 });

      await h.handle(kinesisEvent([taskEnvelope('a', 1), newer, taskEnvelope('a', 3)]));
      expect(h.applied).toEqual(['a@1']);
      expect(h.held('a')).toHaveLength(2);

      await h.handle(kinesisEvent([taskEnvelope('a', 4)]));

      expect(h.applied).toEqual(['a@1', 'a@3', 'a@4']);
      expect(h.deadLetters()).toEqual([
        expect.objectContaining({ reason: 'unsupported-schema-version', version: 2 }),
      ]);
      expect(h.held('a')).toEqual([]);
    });

    it('skips event types without a handler and still advances the checkpoint', async () => {
      const h = harness(entry);

      await h.handle(
        kinesisEvent([
          taskEnvelope('a', 1),
          taskEnvelope('a', 2, { type: 'TaskCommented' }),
          taskEnvelope('a', 3),
          taskEnvelope('a', 4, { type: 'SomethingElse', data: {} }),
        ]),
      );

      expect(h.applied).toEqual(['a@1', 'a@3']);
      expect(h.checkpoint('a')).toMatchObject({ version: 4 });
      expect(h.deadLetters()).toEqual([]);
      expect(h.summaries[0]).toMatchObject({ skipped: 2, applied: 2, gapsHeld: 0 });
    });

    it('writes a minimal dead letter when the full one is refused for a reason that would repeat, and moves on', async () => {
      const h = harness(entry);
      h.db.failNext(
        'PutItem',
        Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
          name: 'ValidationException',
          $metadata: { httpStatusCode: 400 },
        }),
        1,
        (input) => JSON.stringify(input).includes('dead-letters'),
      );
      const event = kinesisEvent([rawRecord('garbage'), taskEnvelope('a', 1)]);

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([]);
      expect(h.deadLetters()).toEqual([
        expect.objectContaining({
          reason: 'undecodable',
          minimal: true,
          record: expect.objectContaining({ dataBytes: 7 }),
        }),
      ]);
      expect(h.summaries[0]).toMatchObject({ parkFailures: 1, parked: 1 });
      expect(
        h.logger.lines.some(
          (line) =>
            line.level === 'error' &&
            /refused/.test(line.message) &&
            JSON.stringify(line.details).includes(event.Records[0]!.kinesis.sequenceNumber),
        ),
      ).toBe(true);
    });

    it('reports a bad record as not completed when it cannot be parked', async () => {
      const h = harness(entry);
      h.db.failNext(
        'PutItem',
        Object.assign(new Error('DynamoDB is down'), {
          name: 'ServiceUnavailable',
          $metadata: { httpStatusCode: 503 },
        }),
        1,
        (input) => JSON.stringify(input).includes('dead-letters'),
      );
      const event = kinesisEvent([taskEnvelope('a', 1), rawRecord('garbage')]);

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: event.Records[1]!.kinesis.sequenceNumber },
      ]);
    });
  });

  describe('store failures and concurrency', () => {
    it('fails the whole invocation when the checkpoints cannot be read', async () => {
      const h = harness(entry);
      h.db.failNext('BatchGetItem', new Error('throttled'));

      await expect(h.handle(kinesisEvent([taskEnvelope('a', 1)]))).rejects.toBeInstanceOf(ConsumerStoreError);
      expect(h.applied).toEqual([]);
    });

    it("reports an aggregate's records when its checkpoint write fails, and re-applies them on redelivery", async () => {
      const h = harness(entry);
      h.db.failNext('PutItem', new Error('internal server error'), 1, isCheckpointRequest);
      const event = kinesisEvent(history('a', 1, 2));

      const response = await h.handle(event);
      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: event.Records[0]!.kinesis.sequenceNumber },
      ]);

      await h.handle(event);
      expect(h.applied).toEqual(['a@1', 'a@2', 'a@1', 'a@2']);
      expect(h.checkpoint('a')).toMatchObject({ version: 2 });
    });

    it('treats a checkpoint changed by another invocation as a concurrent consumer', async () => {
      const h = harness(entry);
      await h.handle(kinesisEvent([taskEnvelope('a', 1)]));
      h.db.failNext(
        'PutItem',
        () => {
          // Another invocation advances the checkpoint between this one's read and write.
          const item = h.db.get(TABLE, `consumer#${NAME}#Task#a`, 'checkpoint')!;
          h.db.put(TABLE, {
            ...item,
            revision: { N: '7' },
            version: { N: '2' },
          });
          return undefined;
        },
        1,
        isCheckpointRequest,
      );
      const event = kinesisEvent([taskEnvelope('a', 2)]);

      const response = await h.handle(event);

      expect(response.batchItemFailures).toEqual([
        { itemIdentifier: event.Records[0]!.kinesis.sequenceNumber },
      ]);
      expect(h.summaries[1]).toMatchObject({ concurrentUpdates: 1 });
      expect(h.logger.lines.some((line) => line.message.includes('changed by another invocation'))).toBe(
        true,
      );
    });

    it('recognises its own write when a retried PutItem finds it already landed', async () => {
      const h = harness(entry);
      h.db.failNext(
        'PutItem',
        (input) => {
          // The first attempt landed but its answer was lost; this is the SDK's retry.
          const item = input.Item as Record<string, never>;
          h.db.put(TABLE, item);
          return undefined;
        },
        1,
        isCheckpointRequest,
      );

      const response = await h.handle(kinesisEvent([taskEnvelope('a', 1)]));

      expect(response.batchItemFailures).toEqual([]);
      expect(h.summaries[0]).toMatchObject({ concurrentUpdates: 0, applied: 1 });
    });
  });

  describe('observability', () => {
    it('logs one summary per batch and sends every count to addMetric, 0 included', async () => {
      const added: [string, string, number][] = [];
      const h = harness(entry, {
        metrics: { addMetric: (name, unit, value) => added.push([name, unit, value]) },
      });

      await h.handle(kinesisEvent([...history('a', 1, 2), rawRecord('x')]));

      const summaries = h.logger.lines.filter((line) => line.message.endsWith('batch done'));
      expect(summaries).toHaveLength(1);
      expect(summaries[0]!.details[0]).toMatchObject({ consumer: NAME, records: 3, applied: 2, parked: 1 });
      expect(added).toEqual(
        expect.arrayContaining([
          ['RecordsReceived', 'Count', 3],
          ['EventsApplied', 'Count', 2],
          ['RecordsParked', 'Count', 1],
          ['GapsExpired', 'Count', 0],
        ]),
      );
      // Every name is one of TIDEMARK_METRICS.consumer, each sent once.
      expect(added.map(([name]) => name).sort()).toEqual(Object.values(TIDEMARK_METRICS.consumer).sort());
    });

    it('loses only the count when the metrics object throws, and logs it', async () => {
      const h = harness(entry, {
        metrics: {
          addMetric: () => {
            throw new Error('buffer full');
          },
        },
      });

      await expect(h.handle(kinesisEvent([taskEnvelope('a', 1)]))).resolves.toEqual({
        batchItemFailures: [],
      });

      const warnings = h.logger.lines.filter((line) => line.message.includes('metrics object threw'));
      expect(warnings).toHaveLength(Object.keys(TIDEMARK_METRICS.consumer).length);
      expect(warnings[0]!.details[0]).toMatchObject({ error: { name: 'Error', message: 'buffer full' } });
    });
  });
});

describe('createConsumer event handling details', () => {
  it('starts no further event close to the timeout, keeps what it did and names the rest', async () => {
    const db = new FakeDynamoDb();
    const applied: number[] = [];
    let remaining = 10_000;
    const consumer = createConsumer({
      name: NAME,
      events: taskEvents,
      handlers: {
        TaskRenamed: (event) => {
          applied.push(event.version);
          remaining -= 3_000;
        },
        TaskCreated: (event) => void applied.push(event.version),
      },
      checkpoints: { tableName: TABLE, dynamodb: db as never },
      timeoutMarginMs: 2_000,
      concurrency: 1,
      logger: memoryLogger(),
    });
    const event = kinesisEvent(history('a', 1, 6));

    const response = await consumer(event, { getRemainingTimeInMillis: () => remaining });

    expect(applied).toEqual([1, 2, 3, 4]);
    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[4]!.kinesis.sequenceNumber },
    ]);
    expect(unmarshall(db.get(TABLE, `consumer#${NAME}#Task#a`, 'checkpoint')!)).toMatchObject({ version: 4 });
  });

  it('gives handlers the typed event and its context', async () => {
    const seen: unknown[] = [];
    const h = harness('createConsumer', {
      handlers: {
        TaskRenamed: (event, context) => {
          seen.push({
            event,
            attempt: context.attempt,
            redrive: context.redrive,
            consumer: context.consumer,
          });
        },
      },
    });
    const envelope = taskEnvelope('a', 1, { type: 'TaskRenamed', schemaVersion: 1, data: { name: 'n' } });

    await h.handle(kinesisEvent([envelope]));

    expect(seen).toEqual([
      {
        event: expect.objectContaining({
          type: 'TaskRenamed',
          data: { name: 'n', reason: 'unknown' },
          aggregate: { type: 'Task', id: 'a' },
          version: 1,
          commandId: envelope.commandid,
          eventId: envelope.id,
          schemaVersion: 1,
          metadata: {},
        }),
        attempt: 1,
        redrive: false,
        consumer: NAME,
      },
    ]);
  });

  it('keeps a checkpoint item in the documented layout', async () => {
    const h = harness();
    await h.handle(kinesisEvent([taskEnvelope('a', 1)]));

    const item = h.db.get(TABLE, `consumer#${NAME}#Task#a`, 'checkpoint')!;

    expect(Object.keys(item).sort()).toEqual(
      [
        'aggregateId',
        'aggregateType',
        'commandId',
        'consumer',
        'eventId',
        'kind',
        'pk',
        'revision',
        'sk',
        'updatedAt',
        'version',
        'writeId',
      ].sort(),
    );
    expect(item.kind).toEqual({ S: 'checkpoint' });
  });

  it('does not re-apply an event whose checkpoint another consumer already wrote', async () => {
    const h = harness();
    h.db.put(
      TABLE,
      marshall({
        pk: `consumer#${NAME}#Task#a`,
        sk: 'checkpoint',
        aggregateType: 'Task',
        aggregateId: 'a',
        version: 5,
        revision: 3,
      }),
    );

    await h.handle(kinesisEvent(history('a', 4, 6)));

    expect(h.applied).toEqual(['a@6']);
  });

  it('throws a TypeError for an event that is not a Kinesis event', async () => {
    const h = harness();
    await expect(h.handle({} as never)).rejects.toBeInstanceOf(TypeError);
  });

  it('stores the envelope bytes of a held record unchanged', async () => {
    const h = harness();
    const v3 = taskEnvelope('a', 3);
    await h.handle(kinesisEvent([taskEnvelope('a', 1), v3]));

    const [held] = h.held('a');

    expect(
      Buffer.from((held!.record as { data: Uint8Array }).data).equals(Buffer.from(encodeEnvelope(v3))),
    ).toBe(true);
  });

  it('answers a ConditionalCheckFailedException without the old item as a concurrent update', async () => {
    const h = harness();
    h.db.failNext(
      'PutItem',
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      1,
      isCheckpointRequest,
    );

    const response = await h.handle(kinesisEvent([taskEnvelope('a', 1)]));

    expect(response.batchItemFailures).toHaveLength(1);
    expect(h.summaries[0]).toMatchObject({ concurrentUpdates: 1 });
  });
});
