/** The decision core's state machine and event verdicts, without I/O: every branch. */
import { describe, expect, it } from 'vitest';
import { type EventFacts, eventVerdict, failureVerdict } from '../../src/rules/event-verdict';
import {
  type AggregateView,
  nextStep,
  notCompletedOnStop,
  type StepOutcome,
} from '../../src/rules/next-step';

const NOW = Date.parse('2026-11-30T00:00:00.000Z');
const view = (over: Partial<AggregateView> = {}): AggregateView => ({
  mark: 4,
  late: [],
  candidates: new Set<number>(),
  held: new Set<number>(),
  heldRead: true,
  gapOpenSinceMs: NOW,
  nowMs: NOW,
  gapTimeoutSeconds: 60,
  maxHeldPerAggregate: 10,
  ...over,
});

describe('nextStep', () => {
  it('finishes when nothing is left to run', () => {
    expect(nextStep(view())).toEqual({ kind: 'finish' });
  });

  it('runs late arrivals first, lowest first, even when the version after the mark is there', () => {
    expect(nextStep(view({ late: [2, 3], candidates: new Set([5, 6]) }))).toEqual({
      kind: 'apply-late',
      version: 2,
    });
  });

  it('runs the version after the mark', () => {
    expect(nextStep(view({ candidates: new Set([6, 5]) }))).toEqual({ kind: 'apply', version: 5 });
  });

  it('answers the same when the versions are the keys of maps (the run passes its maps, uncopied)', () => {
    const byVersion = (versions: number[]) =>
      new Map(versions.map((version) => [version, `record ${version}`]));
    const cases: Partial<AggregateView>[] = [
      { candidates: new Set([6, 5]) },
      { candidates: new Set([7, 8]), held: new Set([8, 9]) },
      { candidates: new Set([7, 8]), held: new Set([8, 9]), gapOpenSinceMs: NOW - 61_000 },
      { candidates: new Set([6]), held: new Set([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) },
      { candidates: new Set([9]), held: new Set([7]), heldRead: false },
    ];
    for (const over of cases) {
      const asMaps = {
        ...over,
        candidates: byVersion([...(over.candidates?.keys() ?? [])]),
        held: byVersion([...(over.held?.keys() ?? [])]),
      };
      expect(nextStep(view(asMaps))).toEqual(nextStep(view(over)));
    }
    // The cases reach every branch that reads the versions.
    expect(cases.map((over) => nextStep(view(over)).kind)).toEqual([
      'apply',
      'hold',
      'expire-gap',
      'expire-gap',
      'hold',
    ]);
  });

  it('holds candidates beyond a gap that has not expired', () => {
    expect(nextStep(view({ candidates: new Set([6, 7]), held: new Set([9]) }))).toEqual({ kind: 'hold' });
  });

  it('holds without judging the gap when the held records were not read', () => {
    const stale = { gapOpenSinceMs: NOW - 3_600_000, candidates: new Set([7]), held: new Set([6]) };
    expect(nextStep(view({ ...stale, heldRead: false }))).toEqual({ kind: 'hold' });
    expect(nextStep(view({ ...stale, heldRead: true, candidates: new Set([6, 7]) }))).toEqual({
      kind: 'expire-gap',
      range: { from: 5, to: 5, cause: 'gap-expired' },
      why: 'open longer than 60 s',
    });
  });

  it('expires a gap open for the timeout, up to the first waiting version', () => {
    expect(nextStep(view({ candidates: new Set([9, 8]), gapOpenSinceMs: NOW - 60_000 }))).toEqual({
      kind: 'expire-gap',
      range: { from: 5, to: 7, cause: 'gap-expired' },
      why: 'open longer than 60 s',
    });
    expect(nextStep(view({ candidates: new Set([9, 8]), gapOpenSinceMs: NOW - 59_999 }))).toEqual({
      kind: 'hold',
    });
  });

  it('expires a gap with more records waiting than the bound (held and batch counted once)', () => {
    const held = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(nextStep(view({ candidates: new Set([6, 7]), held }))).toEqual({ kind: 'hold' });
    // Read back, the held records are candidates too.
    expect(nextStep(view({ candidates: new Set([...held, 16]), held }))).toEqual({
      kind: 'expire-gap',
      range: { from: 5, to: 5, cause: 'gap-expired' },
      why: 'more than 10 records held',
    });
  });

  it('holds what is left after an event that cannot be read yet, whatever the gap', () => {
    const stale = view({ candidates: new Set([5, 6]), gapOpenSinceMs: NOW - 3_600_000 });
    expect(nextStep(stale, 'held-unreadable')).toEqual({ kind: 'hold' });
  });

  it.each<StepOutcome>(['stop-handler', 'stop-infra', 'stop-concurrent', 'stop-time'])(
    'stops after %s',
    (outcome) => {
      expect(nextStep(view({ candidates: new Set([5]) }), outcome)).toEqual({ kind: 'stop', outcome });
    },
  );
});

describe('notCompletedOnStop', () => {
  const base = {
    outcome: 'stop-handler' as const,
    failedVersion: 6,
    lateLeft: [],
    candidates: [
      { version: 6, index: 3 },
      { version: 7, index: 1 },
      { version: 9, index: 4 },
    ],
    batchIndexes: [0, 1, 3, 4, 8],
    pending: [0],
  };

  it('fails the failed version and the later ones', () => {
    expect(notCompletedOnStop(base)).toEqual([1, 3, 4]);
    expect(notCompletedOnStop({ ...base, failedVersion: 7 })).toEqual([1, 4]);
  });

  it('fails the late arrivals left and every candidate when a late arrival failed', () => {
    expect(notCompletedOnStop({ ...base, lateLeft: [{ version: 2, index: 8 }] })).toEqual([1, 3, 4, 8]);
  });

  it("names the aggregate's last record when the failing event was a held one", () => {
    expect(notCompletedOnStop({ ...base, candidates: [] })).toEqual([8]);
    expect(notCompletedOnStop({ ...base, candidates: [], batchIndexes: [] })).toEqual([]);
  });

  it('also fails what was made durable only in memory when another invocation got there first', () => {
    expect(notCompletedOnStop({ ...base, outcome: 'stop-concurrent' })).toEqual([0, 1, 3, 4]);
    expect(notCompletedOnStop({ ...base, outcome: 'stop-infra' })).toEqual([1, 3, 4]);
  });
});

describe('eventVerdict', () => {
  const facts = (over: Partial<EventFacts> = {}): EventFacts => ({
    version: 5,
    handled: true,
    readability: 'readable',
    redriving: false,
    late: false,
    failure: undefined,
    maxAttempts: 3,
    unreadableEvents: 'hold',
    waiting: 1,
    maxHeldPerAggregate: 10,
    ...over,
  });

  it('runs a readable event with a handler', () => {
    expect(eventVerdict(facts())).toEqual({ kind: 'run' });
    expect(eventVerdict(facts({ failure: { version: 5, attempts: 2 } }))).toEqual({ kind: 'run' });
  });

  it('skips an event without a handler, readable or not', () => {
    for (const readability of ['readable', 'not-readable-yet', 'invalid'] as const) {
      expect(eventVerdict(facts({ handled: false, readability }))).toEqual({ kind: 'skip' });
    }
  });

  it('parks a payload no deploy will read, without counting attempts', () => {
    expect(eventVerdict(facts({ readability: 'invalid' }))).toEqual({
      kind: 'park',
      reason: 'invalid-payload',
      attempts: 0,
    });
  });

  it('holds an event that cannot be read yet, by default', () => {
    expect(eventVerdict(facts({ readability: 'not-readable-yet', waiting: 10 }))).toEqual({ kind: 'hold' });
  });

  it.each<[string, Partial<EventFacts>]>([
    ['parking is chosen', { unreadableEvents: 'park' }],
    ['it is redriven', { redriving: true }],
    ['it is a late arrival (below the mark)', { late: true }],
    ['more records would wait than the bound', { waiting: 11 }],
  ])('parks an event that cannot be read yet when %s', (_, over) => {
    expect(eventVerdict(facts({ readability: 'not-readable-yet', ...over }))).toEqual({
      kind: 'park',
      reason: 'unsupported-schema-version',
      attempts: 0,
    });
  });

  it('parks without running an event whose attempts deliveries used up', () => {
    const failure = { version: 5, attempts: 3 };
    expect(eventVerdict(facts({ failure }))).toEqual({ kind: 'park', reason: 'handler-failed', attempts: 3 });
    expect(eventVerdict(facts({ failure, redriving: true }))).toEqual({ kind: 'run' });
    expect(eventVerdict(facts({ failure: { version: 4, attempts: 3 } }))).toEqual({ kind: 'run' });
  });
});

describe('failureVerdict', () => {
  it('counts an attempt before the last, parks on the last, reports a redrive', () => {
    expect(failureVerdict({ redriving: false, attempt: 2, maxAttempts: 3 })).toBe('count');
    expect(failureVerdict({ redriving: false, attempt: 3, maxAttempts: 3 })).toBe('park');
    expect(failureVerdict({ redriving: false, attempt: 4, maxAttempts: 3 })).toBe('park');
    expect(failureVerdict({ redriving: true, attempt: 9, maxAttempts: 3 })).toBe('report');
  });
});
