export { createDynamoDbStreamEventSource } from './dynamodb-stream-event-source';
export { createKinesisEventSource } from './kinesis-event-source';
