/**
 * Rule: a record is accepted as an event of its aggregate only if it is plausible.
 *
 * - Misrouted: its Kinesis partition key is not its envelope's aggregate key. The publisher always
 *   keys by aggregate; anything else is forged or corrupt, and its ordering is not guaranteed.
 * - Implausible version: more than `maxVersionsAhead` versions ahead of what the aggregate can
 *   reach (its checkpoint plus the versions without a gap after it in the batch and the held
 *   records). No real stream loses that many consecutive events of one aggregate, so such a
 *   version can only be corrupt or forged; holding or applying it would make every real version
 *   below it a "duplicate".
 */

/** Whether a record's partition key matches its envelope's aggregate. */
export function isMisrouted(partitionKey: string, aggregateKey: string): boolean {
  return partitionKey !== aggregateKey;
}

/** The highest version reachable without a gap: `mark` plus the run of present versions after it. */
export function reachableVersion(mark: number, present: ReadonlySet<number>): number {
  let reach = mark;
  while (present.has(reach + 1)) reach += 1;
  return reach;
}

/** Whether `version` is further ahead of `reach` than the consumer would ever hold. */
export function isImplausibleVersion(version: number, reach: number, maxAhead: number): boolean {
  return version - reach > maxAhead;
}
