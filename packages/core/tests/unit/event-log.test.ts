import { describe, expect, it } from 'vitest';
import {
  createEnvelope,
  EnvelopeValidationError,
  envelopeFromEventLogItem,
  eventLogItemFromEnvelope,
  eventLogTableDescription,
  newCommandId,
  parseEventLogItem,
} from '../../src/index';

const envelope = createEnvelope({
  source: '/tasks',
  type: 'TaskCreated',
  aggregate: { type: 'Task', id: 't-1' },
  version: 7,
  commandId: newCommandId(),
  data: { name: 'n', nested: { list: [1, 'two', null] } },
  metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});

describe('event-log items', () => {
  it('maps an envelope to an item keyed by aggregate and version, and back', () => {
    const item = eventLogItemFromEnvelope(envelope);
    expect(item.pk).toBe('Task#t-1');
    expect(item.sk).toBe(7);
    expect(item.payload).toEqual(envelope.data);
    expect(parseEventLogItem(JSON.parse(JSON.stringify(item)))).toEqual(item);
    expect(envelopeFromEventLogItem(item)).toEqual(envelope);
  });

  it('refuses an item that is not an event', () => {
    expect(() => parseEventLogItem({ pk: 'Task#t-1', sk: 0, kind: 'snapshot' })).toThrow(
      EnvelopeValidationError,
    );
  });

  it('refuses an item whose key disagrees with its aggregate', () => {
    const item = { ...eventLogItemFromEnvelope(envelope), pk: 'Task#other' };
    expect(() => parseEventLogItem(item)).toThrow(/aggregateType#aggregateId/);
  });

  it('describes the table with a NEW_IMAGE stream', () => {
    expect(eventLogTableDescription('log')).toEqual({
      TableName: 'log',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    });
  });
});
