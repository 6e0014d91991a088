/**
 * What a million events cost in DynamoDB and Kinesis requests, from what the benchmarks measured:
 * the request units each consumer was billed per 1,000-record batch (counted per request by
 * `request-counter.ts`: item sizes rounded up to 1 KB for writes and 4 KB for reads, strongly
 * consistent reads 1 unit and eventually consistent ½, transactional items 2, BatchGetItem per item)
 * and the Kinesis records the publisher put (sizes rounded up to 1 KB on demand, 25 KB PUT payload
 * units when provisioned), priced at the published on-demand prices below.
 */
import type { Figure } from './report';

/**
 * Published prices, us-east-1, as read on 2026-11-30. DynamoDB on-demand (standard table class):
 * $0.625 per million write request units and $0.125 per million read request units (the prices
 * since AWS halved on-demand throughput prices in November 2024). Kinesis Data Streams: provisioned
 * $0.014 per million PUT payload units (25 KB each) and $0.015 per shard-hour; on-demand $0.08 per
 * GB written and $0.04 per GB read, each record rounded up to 1 KB, plus $0.04 per stream-hour.
 * Hourly charges do not depend on the number of events and are left out. Sources in the bench README.
 */
export const PRICES = {
  date: '2026-11-30',
  region: 'us-east-1',
  dynamodbWriteRequestUnit: 0.625 / 1e6,
  dynamodbReadRequestUnit: 0.125 / 1e6,
  kinesisPutPayloadUnit: 0.014 / 1e6,
  kinesisOnDemandGbIn: 0.08,
  kinesisOnDemandGbOut: 0.04,
} as const;

/** Bytes in the GB Kinesis bills (2^30). */
const GB = 1024 ** 3;
const EVENTS = 1_000_000;

/** A shape of a 1,000-record batch. */
export interface WorkloadShape {
  readonly name: string;
  readonly aggregates: number;
  readonly versions: number;
}

/** The request units one consumer was billed for one batch. */
export interface MeasuredConsumer {
  readonly who: string;
  readonly shape: WorkloadShape;
  /** Records in the batch. */
  readonly records: number;
  readonly first: { readonly read: number; readonly write: number };
  readonly redelivery: { readonly read: number; readonly write: number };
  readonly requests: { readonly first: number; readonly redelivery: number };
}

/** What the publisher put on Kinesis for one batch. */
export interface MeasuredPublisher {
  readonly shape: WorkloadShape;
  /** Events in the batch. */
  readonly events: number;
  /** Kinesis records put (entries of PutRecords calls that were accepted). */
  readonly records: number;
  /** The records' sizes (data + partition key), each rounded up to 1 KB, in KB. */
  readonly roundedKb: number;
  /** PUT payload units (25 KB each, per record). */
  readonly putPayloadUnits: number;
  /** PutRecords calls. */
  readonly calls: number;
}

const dollars = (value: number) => Number(value.toFixed(value >= 1 ? 2 : 4));

/** DynamoDB dollars per million events for consumers, first delivery and a full redelivery. */
export function costFigures(measured: readonly MeasuredConsumer[]): Figure[] {
  const figures: Figure[] = [];
  for (const entry of measured) {
    const perEvent = EVENTS / entry.records;
    const price = (units: { read: number; write: number }) =>
      perEvent *
      (units.read * PRICES.dynamodbReadRequestUnit + units.write * PRICES.dynamodbWriteRequestUnit);
    figures.push({
      bench: `cost per million events (DynamoDB on-demand, ${PRICES.region}, prices of ${PRICES.date})`,
      case: `${entry.who}, ${entry.shape.name}`,
      value: dollars(price(entry.first)),
      unit: 'USD',
      note: `${(entry.first.read * perEvent).toLocaleString('en-US')} read + ${(entry.first.write * perEvent).toLocaleString('en-US')} write request units (${(entry.requests.first * perEvent).toLocaleString('en-US')} requests); all of it delivered again: +$${dollars(price(entry.redelivery))}`,
    });
  }
  return figures;
}

/** Kinesis dollars per million events for what the publisher put, on demand and provisioned. */
export function kinesisCostFigures(measured: readonly MeasuredPublisher[]): Figure[] {
  return measured.map((entry) => {
    const perEvent = EVENTS / entry.events;
    const gb = (entry.roundedKb * 1024 * perEvent) / GB;
    const onDemand = gb * PRICES.kinesisOnDemandGbIn + gb * PRICES.kinesisOnDemandGbOut;
    const provisioned = entry.putPayloadUnits * perEvent * PRICES.kinesisPutPayloadUnit;
    return {
      bench: `cost per million events (Kinesis, ${PRICES.region}, prices of ${PRICES.date})`,
      case: `publisher, ${entry.shape.name}: on demand, written once and read by one consumer`,
      value: dollars(onDemand),
      unit: 'USD',
      note: `${(entry.records * perEvent).toLocaleString('en-US')} records in ${(entry.calls * perEvent).toLocaleString('en-US')} PutRecords calls, ${gb.toFixed(3)} GB billed each way (records rounded up to 1 KB); provisioned: $${dollars(provisioned)} of PUT payload units (plus shard-hours)`,
    };
  });
}
