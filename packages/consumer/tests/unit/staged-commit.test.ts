import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { CheckpointState } from '../../src/checkpoint-item';
import {
  firstRequest,
  MAX_STAGED_ACTIONS_PER_REQUEST,
  MAX_STAGED_BYTES_PER_REQUEST,
  readRefusal,
  type StagedEvent,
  stagedBytes,
  TableKeys,
} from '../../src/staged-commit';

const put = (table: string, pk: string, sk = 'row', pad = 0): TransactWriteItem => ({
  Put: {
    TableName: table,
    Item: { pk: { S: pk }, sk: { S: sk }, ...(pad > 0 ? { pad: { S: 'x'.repeat(pad) } } : {}) },
  },
});
const update = (table: string, pk: string, sk = 'row'): TransactWriteItem => ({
  Update: {
    TableName: table,
    Key: { pk: { S: pk }, sk: { S: sk } },
    UpdateExpression: 'ADD n :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  },
});

let nextIndex = 0;
function staged(items: TransactWriteItem[]): StagedEvent {
  nextIndex += 1;
  return {
    candidate: { record: { index: nextIndex } as never, fromHeld: false },
    attempt: 1,
    items,
    bytes: stagedBytes(items),
    before: {} as CheckpointState,
    after: {} as CheckpointState,
    pendingBefore: nextIndex - 1,
    pendingAfter: nextIndex,
  };
}

const sizes = (parts: StagedEvent[][]) => parts.map((part) => part.length);

/** Cuts every event into requests the way the draft sends them (first request, then the rest). */
function cut(events: StagedEvent[], keys = new TableKeys()): StagedEvent[][] {
  const parts: StagedEvent[][] = [];
  let rest = events;
  while (rest.length > 0) {
    const part = firstRequest(rest, keys);
    parts.push(part);
    rest = rest.slice(part.length);
  }
  return parts;
}

describe('firstRequest', () => {
  it("puts all of an aggregate's events in one request when they fit", () => {
    const events = Array.from({ length: 10 }, (_, index) => staged([put('t', `e${index}`)]));
    expect(sizes(cut(events))).toEqual([10]);
  });

  it('cuts before the staged writes would pass 99 actions (the checkpoint is the 100th)', () => {
    const events = Array.from({ length: 10 }, () =>
      staged(Array.from({ length: 30 }, (_, index) => put('t', `k${nextIndex}-${index}`))),
    );
    expect(sizes(cut(events))).toEqual([3, 3, 3, 1]);
    expect(MAX_STAGED_ACTIONS_PER_REQUEST).toBe(99);
    const exact = [staged(Array.from({ length: 98 }, (_, i) => put('t', `x${i}`))), staged([put('t', 'y')])];
    expect(sizes(cut(exact))).toEqual([2]);
    const over = [
      staged(Array.from({ length: 98 }, (_, i) => put('t', `x${i}`))),
      staged([put('t', 'y'), put('t', 'z')]),
    ];
    expect(sizes(cut(over))).toEqual([1, 1]);
  });

  it('cuts before the staged writes would pass 4 MB less the margin and room for the checkpoint', () => {
    const events = Array.from({ length: 7 }, () =>
      staged(Array.from({ length: 3 }, (_, index) => put('t', `b${nextIndex}-${index}`, 'row', 340 * 1024))),
    );
    const parts = cut(events);
    expect(sizes(parts)).toEqual([3, 3, 1]);
    for (const part of parts) {
      expect(part.reduce((sum, event) => sum + event.bytes, 0)).toBeLessThanOrEqual(
        MAX_STAGED_BYTES_PER_REQUEST,
      );
    }
    expect(MAX_STAGED_BYTES_PER_REQUEST + 400 * 1024 + 64 * 1024 + 4 * 1024).toBe(4 * 1024 * 1024);
  });

  it('sends an event alone even when it passes a limit by itself (DynamoDB then judges it)', () => {
    const huge = staged(Array.from({ length: 12 }, (_, index) => put('t', `h${index}`, 'row', 390 * 1024)));
    expect(sizes(cut([huge, staged([put('t', 'after')])]))).toEqual([1, 1]);
  });

  it('never puts two writes to one known item in a request', () => {
    const keys = new TableKeys();
    const events = [staged([update('t', 'a')]), staged([update('t', 'a')]), staged([update('t', 'b')])];
    expect(sizes(cut(events, keys))).toEqual([1, 2]);
  });

  it('tells Put items apart once the key names of their table are known', () => {
    const keys = new TableKeys();
    const events = [staged([put('t', 'a')]), staged([put('t', 'a')]), staged([put('t', 'b')])];
    // Key names unknown: the Puts go together (DynamoDB refuses them if they touch one item).
    expect(sizes(cut(events, keys))).toEqual([3]);
    keys.learn([update('t', 'z')]);
    expect(sizes(cut(events, keys))).toEqual([1, 2]);
    // A Put lacking a key attribute cannot be placed: it is not taken for another item.
    expect(keys.identity({ Put: { TableName: 't', Item: { pk: { S: 'a' } } } })).toBeUndefined();
  });

  it('after Puts of unknown key collided, keeps a Put away from every other write to its table', () => {
    const keys = new TableKeys();
    expect(keys.putsClashedOn(['t'])).toBe(true);
    expect(keys.putsClashedOn(['t'])).toBe(false);
    const events = [staged([put('t', 'a')]), staged([put('t', 'b')]), staged([put('other', 'a')])];
    expect(sizes(cut(events, keys))).toEqual([1, 2]);
    // A table whose key names are known does not need it.
    const known = new TableKeys();
    known.learn([update('k', 'z')]);
    expect(known.putsClashedOn(['k'])).toBe(false);
  });

  it('sends an event marked alone on its own, after the events before it', () => {
    const events = Array.from({ length: 5 }, (_, index) => staged([put('t', `e${index}`)]));
    events[2]!.alone = true;
    expect(sizes(cut(events))).toEqual([2, 1, 2]);
  });
});

describe('readRefusal', () => {
  const cancelled = (codes: string[], item?: Record<string, { N: string }>) =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code, index) => ({
        Code,
        ...(index === codes.length - 1 && item ? { Item: item } : {}),
      })),
    });

  it("names the event whose staged write was refused, with that event's own reasons", () => {
    const part = [staged([put('t', 'a')]), staged([put('t', 'b'), put('t', 'c')]), staged([put('t', 'd')])];
    const refusal = readRefusal(
      cancelled(['None', 'None', 'ConditionalCheckFailed', 'None', 'None']),
      part,
      4,
    );
    expect(refusal).toEqual({
      kind: 'event',
      event: part[1],
      reasons: [{ code: 'None' }, { code: 'ConditionalCheckFailed' }],
    });
  });

  it('reads a refused checkpoint condition as another invocation, whatever else was refused', () => {
    const part = [staged([put('t', 'a')])];
    expect(
      readRefusal(
        cancelled(['ConditionalCheckFailed', 'ConditionalCheckFailed'], { revision: { N: '7' } }),
        part,
        1,
      ),
    ).toEqual({ kind: 'concurrent', revision: 7 });
  });

  it('reads conflicts and throttling as waitable', () => {
    const part = [staged([put('t', 'a')]), staged([put('t', 'b')])];
    expect(readRefusal(cancelled(['TransactionConflict', 'None', 'None']), part, 2)).toEqual({
      kind: 'waitable',
    });
    expect(readRefusal(Object.assign(new Error('x'), { name: 'ThrottlingException' }), part, 2)).toEqual({
      kind: 'waitable',
    });
  });

  it('reads a ValidationException of a shared request as the whole request, and notes a same-item collision', () => {
    const part = [staged([put('t', 'a')]), staged([put('t', 'a')])];
    const sameItem = Object.assign(
      new Error('Transaction request cannot include multiple operations on one item'),
      {
        name: 'ValidationException',
      },
    );
    expect(readRefusal(sameItem, part, 2)).toEqual({ kind: 'request', sameItem: true });
    const other = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException',
    });
    expect(readRefusal(other, part, 2)).toEqual({ kind: 'request', sameItem: false });
    expect(readRefusal(other, part.slice(0, 1), 1)).toEqual({
      kind: 'event',
      event: part[0],
      reasons: undefined,
    });
  });
});
