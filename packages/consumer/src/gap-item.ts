/** The open-gap index: one item per aggregate with held records, read by the gap sweep. */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { gapKey, type Key } from './table-keys';

/** An aggregate with held records: the index the gap sweep reads. */
export interface OpenGapItem {
  readonly aggregateKey: string;
  readonly aggregate: { readonly type: string; readonly id: string };
  /** When its first held record was set aside (ISO 8601). */
  readonly openSince: string;
}

export function gapToItem(consumer: string, gap: OpenGapItem): Key {
  return {
    ...gapKey(consumer, gap.aggregateKey),
    ...marshall({
      kind: 'gap',
      consumer,
      aggregateType: gap.aggregate.type,
      aggregateId: gap.aggregate.id,
      openSince: gap.openSince,
    }),
  };
}

export function gapFromItem(item: Key): OpenGapItem {
  const raw = unmarshall(item) as {
    sk: string;
    aggregateType: string;
    aggregateId: string;
    openSince: string;
  };
  return {
    aggregateKey: raw.sk,
    aggregate: { type: raw.aggregateType, id: raw.aggregateId },
    openSince: raw.openSince,
  };
}

/** A change to the open-gap index made atomically with a checkpoint write. */
export type GapChange = { readonly open: OpenGapItem } | { readonly close: string };
