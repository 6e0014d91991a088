/**
 * The event log's unit tests run on the strict in-memory DynamoDB of `@tidemark/testing/fakes`: what
 * DynamoDB would refuse, it refuses. These helpers add a few handles and re-export the sample catalog.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  ScanCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { eventLogTableDescription } from '@tidemark/core';
import { FakeDynamoDB } from '@tidemark/testing/fakes';

// The sample catalog of Tidemark's tests, shared with the publisher's and the consumer's.
export {
  DateStamped,
  NoteAdded,
  sampleCatalog as catalog,
  TaskCreated,
  TaskRenamed,
} from '@tidemark/testing/internal';

type Item = Record<string, AttributeValue>;

/** The table the unit tests append to. */
export const TABLE = 'events';

/**
 * The strict in-memory DynamoDB of `@tidemark/testing/fakes` (item and transaction limits, real
 * condition expressions, the SDK's exceptions) holding one event-log table, with the few handles the
 * event log's unit tests need: the versions stored, a concurrent writer just before a transaction,
 * refused transactions, and the order of Scan pages.
 */
export class FakeDynamoDb {
  readonly model: FakeDynamoDB;
  readonly config = {};
  /** The operations sent, in order. */
  readonly calls: string[] = [];
  /** Runs before a TransactWriteItems is carried out (to simulate a concurrent writer). */
  beforeTransact: ((attempt: number) => Promise<void> | void) | undefined;
  /** Returns cancellation reasons to refuse a transaction with (before its conditions are checked). */
  refuseTransact: ((attempt: number) => string[] | undefined) | undefined;
  transactAttempts = 0;
  /** Reorders each Scan page (to check callers do not rely on the order within a page). */
  scanPageOrder: ((items: Item[]) => Item[]) | undefined;

  constructor() {
    this.model = new FakeDynamoDB({
      onBeforeSend: async (call) => {
        this.calls.push(call.operation);
        if (call.operation !== 'TransactWriteItems') return;
        this.transactAttempts += 1;
        const attempt = this.transactAttempts;
        await this.beforeTransact?.(attempt);
        const refused = this.refuseTransact?.(attempt);
        if (refused) throw cancelled(refused);
      },
    });
    this.model.createTable(eventLogTableDescription(TABLE));
  }

  async send(command: unknown): Promise<unknown> {
    const output = (await this.model.client.send(command as never)) as { Items?: Item[] };
    if (command instanceof ScanCommand && this.scanPageOrder && output.Items) {
      return { ...output, Items: this.scanPageOrder([...output.Items]) };
    }
    return output;
  }

  /** Writes an item directly (as another writer would), bypassing every condition. */
  put(item: Item): void {
    this.model.seed(TABLE, [item]);
  }

  /** Deletes an item directly (as a hand edit of the log would), bypassing every condition. */
  async delete(pk: string, sk: number): Promise<void> {
    await this.model.client.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: pk }, sk: { N: String(sk) } } }),
    );
  }

  versions(pk: string): number[] {
    return this.model
      .dump(TABLE)
      .filter((item) => item.pk?.S === pk)
      .map((item) => Number(item.sk!.N))
      .sort((a, b) => a - b);
  }

  get(pk: string, sk: number): Item | undefined {
    return this.model.dump(TABLE).find((item) => item.pk?.S === pk && Number(item.sk?.N) === sk);
  }
}

function cancelled(reasons: string[]) {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.join(', ')}]`,
    $metadata: {},
    CancellationReasons: reasons.map((Code) => ({ Code })),
  });
}

/** An error shaped like an AWS SDK service error. */
export function awsError(name: string): Error {
  const error = new Error(`${name} (fake)`);
  error.name = name;
  return error;
}
