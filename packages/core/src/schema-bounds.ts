import type { JsonSchemaObject } from './json-schema';
import { incompatibility, type SchemaIncompatibility } from './schema-incompatibility';

/**
 * The comparison rules for bounds: a reader's bound is kept when the writer guarantees one at least
 * as tight. Lengths, item and field counts (`minLength`, `maxItems`, `minProperties`, …) and numeric
 * ranges (inclusive and exclusive) each have one rule here.
 */

/**
 * A reader's lower bound on a count (`minLength`, `minItems`, `minProperties`) against the writer's.
 * `what` names the count in the message (`length`, `number of items`).
 */
export function compareLowerBound(
  writer: JsonSchemaObject,
  reader: JsonSchemaObject,
  keyword: string,
  path: string,
  what: string,
): SchemaIncompatibility[] {
  const readerMin = reader[keyword];
  if (typeof readerMin !== 'number' || readerMin <= 0) return [];
  const writerMin = typeof writer[keyword] === 'number' ? (writer[keyword] as number) : 0;
  return writerMin >= readerMin
    ? []
    : [
        incompatibility(
          path,
          `narrowed: the reader requires a ${what} of at least ${readerMin}, the writer guarantees only ${writerMin}`,
        ),
      ];
}

/** A reader's upper bound on a count (`maxLength`, `maxItems`, `maxProperties`) against the writer's. */
export function compareUpperBound(
  writer: JsonSchemaObject,
  reader: JsonSchemaObject,
  keyword: string,
  path: string,
  what: string,
): SchemaIncompatibility[] {
  const readerMax = reader[keyword];
  if (typeof readerMax !== 'number') return [];
  const writerMax =
    typeof writer[keyword] === 'number' ? (writer[keyword] as number) : Number.POSITIVE_INFINITY;
  return writerMax <= readerMax
    ? []
    : [
        incompatibility(
          path,
          `narrowed: the reader accepts a ${what} of at most ${readerMax}, the writer may write ${Number.isFinite(writerMax) ? writerMax : 'any'}`,
        ),
      ];
}

/** A reader's numeric range (`minimum`, `maximum` and their exclusive forms) against the writer's. */
export function compareNumericBounds(
  writer: JsonSchemaObject,
  reader: JsonSchemaObject,
  path: string,
): SchemaIncompatibility[] {
  const found: SchemaIncompatibility[] = [];
  const rMin = tightestBound(reader, 'minimum', 'exclusiveMinimum', true);
  const wMin = tightestBound(writer, 'minimum', 'exclusiveMinimum', true);
  if (rMin) {
    const ok =
      wMin !== undefined &&
      (wMin.value > rMin.value || (wMin.value === rMin.value && (wMin.exclusive || !rMin.exclusive)));
    if (!ok) {
      found.push(
        incompatibility(
          path,
          `narrowed: the reader requires a value ${rMin.exclusive ? '>' : '>='} ${rMin.value}, the writer guarantees ${wMin ? `${wMin.exclusive ? '>' : '>='} ${wMin.value}` : 'no lower bound'}`,
        ),
      );
    }
  }
  const rMax = tightestBound(reader, 'maximum', 'exclusiveMaximum', false);
  const wMax = tightestBound(writer, 'maximum', 'exclusiveMaximum', false);
  if (rMax) {
    const ok =
      wMax !== undefined &&
      (wMax.value < rMax.value || (wMax.value === rMax.value && (wMax.exclusive || !rMax.exclusive)));
    if (!ok) {
      found.push(
        incompatibility(
          path,
          `narrowed: the reader requires a value ${rMax.exclusive ? '<' : '<='} ${rMax.value}, the writer guarantees ${wMax ? `${wMax.exclusive ? '<' : '<='} ${wMax.value}` : 'no upper bound'}`,
        ),
      );
    }
  }
  return found;
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

/** The tighter of a node's inclusive and exclusive bound (`lower`: the greater one). */
function tightestBound(
  node: JsonSchemaObject,
  inclusive: string,
  exclusive: string,
  lower: boolean,
): Bound | undefined {
  const candidates: Bound[] = [];
  if (typeof node[inclusive] === 'number')
    candidates.push({ value: node[inclusive] as number, exclusive: false });
  if (typeof node[exclusive] === 'number')
    candidates.push({ value: node[exclusive] as number, exclusive: true });
  let tightest: Bound | undefined;
  for (const candidate of candidates) {
    if (
      !tightest ||
      (lower ? candidate.value > tightest.value : candidate.value < tightest.value) ||
      (candidate.value === tightest.value && candidate.exclusive)
    ) {
      tightest = candidate;
    }
  }
  return tightest;
}
