/**
 * What the event log's integration tests share on DynamoDB Local: an event log of the sample
 * catalog on the test's table.
 */
import type { LocalAws } from '@tidemark/testing';
import { createEventLog, type EventLog, type EventLogOptions } from '../../src/index';
import { catalog } from './fakes';

/** The event log of the tests (sample catalog, source `/it`) on `tableName`, with `options` on top. */
export function testEventLog(
  aws: LocalAws,
  tableName: string,
  options: Partial<EventLogOptions<typeof catalog>> = {},
): EventLog<typeof catalog> {
  return createEventLog({ tableName, dynamodb: aws.dynamodb, catalog, source: '/it', ...options });
}
