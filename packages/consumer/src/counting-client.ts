/** One counter for every DynamoDB request of a run, so a batch can report how many requests it made. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Counts DynamoDB requests. */
export interface RequestCounter {
  requests: number;
}

/** A DynamoDB client that counts what it sends. */
export class CountingClient {
  constructor(
    readonly client: DynamoDBClient,
    readonly counter: RequestCounter,
  ) {}

  // biome-ignore lint/suspicious/noExplicitAny: forwards any command of the DynamoDB client
  send<T>(command: any): Promise<T> {
    this.counter.requests += 1;
    return this.client.send(command) as Promise<T>;
  }
}
