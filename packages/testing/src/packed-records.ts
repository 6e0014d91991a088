/**
 * Kinesis events whose records pack several events of one aggregate, as the publisher writes them
 * (the CloudEvents JSON batch format, `application/cloudevents-batch+json`), built with core's
 * encoder so tests feed consumers exactly what the publisher puts on the stream.
 */
import {
  type EventEnvelope,
  encodeEnvelope,
  envelopePartitionKey,
  toKinesisBatchRecord,
} from '@tidemark/core';
import type { KinesisStreamEvent } from 'aws-lambda';
import { type KinesisEventFactoryOptions, kinesisEventFromData } from './factories/kinesis-events';

/**
 * A Kinesis event with one record per run: a run of one envelope is a plain envelope record, a
 * longer run one packed record (a JSON array of the envelopes), keyed by their aggregate. Throws
 * `RecordTooLargeError` for a run over 1 MiB with its partition key, and a `TypeError` for an empty
 * run or one that mixes aggregates.
 *
 * @example
 * ```ts
 * import { buildEnvelopes, kinesisEventFromEnvelopeRuns } from '@tidemark/testing';
 *
 * const [v1, v2, v3] = buildEnvelopes(3); // one aggregate, versions 1–3
 * const event = kinesisEventFromEnvelopeRuns([[v1, v2], [v3]]); // 2 records: a batch, then v3 alone
 * ```
 */
export function kinesisEventFromEnvelopeRuns(
  runs: readonly (readonly EventEnvelope[])[],
  options: KinesisEventFactoryOptions = {},
): KinesisStreamEvent {
  return kinesisEventFromData(
    runs.map((run) => {
      if (run.length === 1) {
        return { data: encodeEnvelope(run[0]!), partitionKey: envelopePartitionKey(run[0]!) };
      }
      const { data, partitionKey } = toKinesisBatchRecord(run);
      return { data, partitionKey };
    }),
    options,
  );
}
