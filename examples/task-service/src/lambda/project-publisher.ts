/** The project log's publisher Lambda (DynamoDB stream event source → Kinesis). */
import { createPublisher } from '@tidemark/publisher';
import { setting } from '../settings';

export const handler = createPublisher({ streamName: setting('STREAM_NAME') });
