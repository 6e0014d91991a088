import { decodeEnvelopeRecord, KINESIS_LIMITS, RecordTooLargeError } from '@tidemark/core';
import { describe, expect, it } from 'vitest';
import { buildEnvelopes, kinesisEventFromEnvelopeRuns } from '../../src/index';

const decode = (data: string) => decodeEnvelopeRecord(Buffer.from(data, 'base64'));

describe('kinesisEventFromEnvelopeRuns', () => {
  it('makes one record per run: a packed batch for a run, a plain envelope for a single', () => {
    const [v1, v2, v3] = buildEnvelopes(3, { aggregate: { type: 'Task', id: 't-1' } });
    const event = kinesisEventFromEnvelopeRuns([[v1!, v2!], [v3!]]);
    expect(event.Records).toHaveLength(2);
    const [packed, single] = event.Records;
    expect(packed!.kinesis.partitionKey).toBe('Task#t-1');
    expect(decode(packed!.kinesis.data)).toMatchObject({
      format: 'batch',
      entries: [
        { success: true, envelope: v1 },
        { success: true, envelope: v2 },
      ],
    });
    expect(decode(single!.kinesis.data)).toMatchObject({ format: 'single', entries: [{ envelope: v3 }] });
    expect(BigInt(single!.kinesis.sequenceNumber)).toBeGreaterThan(BigInt(packed!.kinesis.sequenceNumber));
  });

  it('refuses a run over 1 MiB and a run that mixes aggregates', () => {
    const big = buildEnvelopes(2, { data: { pad: 'x'.repeat(KINESIS_LIMITS.maxRecordBytes / 2) } });
    expect(() => kinesisEventFromEnvelopeRuns([big])).toThrow(RecordTooLargeError);
    const [a] = buildEnvelopes(1, { aggregate: { type: 'Task', id: 'a' } });
    const [b] = buildEnvelopes(1, { aggregate: { type: 'Task', id: 'b' }, version: 2 });
    expect(() => kinesisEventFromEnvelopeRuns([[a!, b!]])).toThrow(TypeError);
  });
});
