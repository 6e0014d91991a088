import { eventLogItemFromEnvelope } from '@tidemark/core';
import { memoryLogger } from '@tidemark/testing';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { describeChange } from '../../src/history-rewrites';
import { type ClassificationContext, classifyRecord } from '../../src/record-classification';
import { marshalledImages } from '../../src/stream-records';
import { envelopesFor, streamRecord } from '../helpers/fakes';

function classify(record: DynamoDBRecord, overrides: Partial<ClassificationContext> = {}) {
  const { logger, lines } = memoryLogger();
  const entry = classifyRecord(record, marshalledImages(record), 7, {
    route: () => 'events',
    logger,
    onHistoryRewrite: 'log',
    ...overrides,
  });
  return { entry, lines };
}

describe('classifyRecord', () => {
  const [v1] = envelopesFor('a', 1, 1);
  const item = eventLogItemFromEnvelope(v1!);

  it('publishes an INSERT of an event with its sequence number, without logging', () => {
    const record = streamRecord({ ...item });
    const { entry, lines } = classify(record);
    expect(entry).toMatchObject({
      kind: 'publish',
      poison: false,
      record: { key: 'Task#a', stream: 'events', version: 1 },
    });
    expect(entry.kind === 'publish' && entry.record.describe.sequenceNumber).toBe(
      record.dynamodb!.SequenceNumber,
    );
    expect(lines).toEqual([]);
  });

  it('makes an unroutable event poison that keeps its aggregate key and version', () => {
    const { entry, lines } = classify(streamRecord({ ...item }), {
      route: () => {
        throw new Error('no stream for Task');
      },
    });
    expect(entry).toMatchObject({
      kind: 'publish',
      poison: true,
      record: { key: 'Task#a', version: 1, poison: 'route failed: no stream for Task' },
    });
    expect(lines).toHaveLength(1);
  });

  it('makes an INSERT without NewImage poison that holds back nothing but itself', () => {
    const record = streamRecord(undefined);
    const { entry } = classify(record);
    expect(entry).toMatchObject({
      kind: 'publish',
      poison: true,
      record: { key: '#unknown:7', poison: 'the stream record has no NewImage' },
    });
    expect(entry.kind === 'publish' && entry.record.version).toBeUndefined();
  });

  it('skips an inserted item without an event-log key as not an event', () => {
    expect(classify(streamRecord({ hello: 'world' })).entry).toEqual({
      kind: 'skip',
      reason: 'not-an-event',
    });
  });

  it('skips a record with an unknown eventName, and logs it', () => {
    const record = { ...streamRecord({ ...item }), eventName: 'TTL' } as unknown as DynamoDBRecord;
    const { entry, lines } = classify(record);
    expect(entry).toEqual({ kind: 'skip', reason: 'not-an-event' });
    expect(lines[0]).toMatchObject({ level: 'error', attributes: { eventName: 'TTL' } });
  });

  it.each([
    ['MODIFY', 'modify'],
    ['REMOVE', 'remove'],
  ] as const)(
    'calls a %s of an event item a history rewrite, logged with its coordinates',
    (eventName, reason) => {
      const { entry, lines } = classify(streamRecord({ ...item }, eventName));
      expect(entry).toEqual({ kind: 'rewrite', reason });
      expect(lines[0]).toMatchObject({
        level: 'error',
        attributes: { eventName, aggregateKey: 'Task#a', aggregateVersion: 1, onHistoryRewrite: 'log' },
      });
    },
  );
});

describe('describeChange', () => {
  it('names the changed attributes, never their values', () => {
    expect(describeChange('MODIFY', { a: 1, b: 'secret', c: 3 }, { a: 1, b: 'old', d: 4 })).toEqual({
      changedAttributes: ['b', 'c', 'd'],
    });
  });

  it('says what it cannot know without an OldImage or a NewImage', () => {
    expect(describeChange('MODIFY', { z: 1, a: 2 }, undefined)).toEqual({
      changedAttributes: 'unknown (the stream has no OldImage; NEW_AND_OLD_IMAGES would show them)',
      attributesNow: ['a', 'z'],
    });
    expect(describeChange('MODIFY', undefined, { a: 1 })).toEqual({
      changedAttributes: 'unknown (no NewImage)',
    });
    expect(describeChange('REMOVE', undefined, { a: 1 })).toEqual({ removed: true });
  });
});
