/** The staging area of a transactional handler. */
import type { ConditionCheck, Delete, Put, TransactWriteItem, Update } from '@aws-sdk/client-dynamodb';
import { MAX_TRANSACTION_ACTIONS } from '@tidemark/core/internal';
import { StagedAfterReturnError, TransactionLimitError } from './errors';
import type { Transaction } from './types';

/** The most writes one handler may stage: TransactWriteItems takes 100 items, one is the checkpoint. */
export const MAX_STAGED_WRITES = MAX_TRANSACTION_ACTIONS - 1;

/** Collects a handler's writes; they commit with the checkpoint. */
export class StagedTransaction implements Transaction {
  readonly limit = MAX_STAGED_WRITES;
  readonly #items: TransactWriteItem[] = [];
  #sealed = false;

  /**
   * @param commitEarlierEvents Makes the aggregate's earlier staged writes durable (see
   * {@link Transaction.commitEarlier}); absent, there is nothing earlier to commit.
   */
  constructor(
    private readonly context: Record<string, unknown> = {},
    private readonly commitEarlierEvents: () => Promise<void> = async () => undefined,
  ) {}

  commitEarlier(): Promise<void> {
    if (this.#sealed) return Promise.reject(new StagedAfterReturnError(this.context));
    return this.commitEarlierEvents();
  }

  get size(): number {
    return this.#items.length;
  }

  put(put: Put): void {
    this.#stage({ Put: requireTable(put, 'put') });
  }

  update(update: Update): void {
    this.#stage({ Update: requireTable(update, 'update') });
  }

  delete(del: Delete): void {
    this.#stage({ Delete: requireTable(del, 'delete') });
  }

  conditionCheck(check: ConditionCheck): void {
    this.#stage({ ConditionCheck: requireTable(check, 'conditionCheck') });
  }

  items(): TransactWriteItem[] {
    return [...this.#items];
  }

  /**
   * Ends staging (the handler returned, threw or ran out of time) and returns the staged writes.
   * A write staged afterwards throws {@link StagedAfterReturnError}: it would never be committed.
   */
  seal(): TransactWriteItem[] {
    this.#sealed = true;
    return this.items();
  }

  #stage(item: TransactWriteItem): void {
    if (this.#sealed) throw new StagedAfterReturnError(this.context);
    if (this.#items.length >= MAX_STAGED_WRITES)
      throw new TransactionLimitError(MAX_STAGED_WRITES, this.context);
    this.#items.push(item);
  }
}

function requireTable<T extends { TableName: string | undefined }>(value: T, method: string): T {
  if (typeof value !== 'object' || value === null || typeof value.TableName !== 'string') {
    throw new TypeError(
      `transaction.${method}: expects the TransactWriteItems ${method} shape with a TableName`,
    );
  }
  return { ...value };
}
