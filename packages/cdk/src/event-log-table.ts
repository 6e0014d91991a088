import { EVENT_LOG_KEY, eventLogTableDescription } from '@tidemark/core';
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { z } from 'zod';
import { anyObject, parseProps } from './props';

/** Properties of {@link EventLogTable}. */
export interface EventLogTableProps {
  /** The table's name. @default a name CloudFormation generates */
  readonly tableName?: string;
  /**
   * What happens to the table when it leaves the stack. The log is the system of record: losing
   * it loses every event, so the default keeps it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A customer managed KMS key; {@link EventLogTable.grantAppend} and the publisher's stream read
   * then include its use.
   * @default the AWS managed key (`aws/dynamodb`)
   */
  readonly encryptionKey?: IKey;
}

const propsSchema = z
  .object({
    tableName: z.string().min(3).max(255).optional(),
    removalPolicy: z.enum(RemovalPolicy).optional(),
    encryptionKey: anyObject<IKey>('a KMS key (IKey)').optional(),
  })
  .strict();

/** The IAM actions `createEventLog` uses to append and read: nothing that changes or removes an item. */
const APPEND_ACTIONS = Object.freeze([
  // `read` and `head` (and the retry of a stored command).
  'dynamodb:Query',
  'dynamodb:GetItem',
  // `append`: one TransactWriteItems of conditional Puts and a ConditionCheck on the previous head;
  // a transaction is authorized per item action.
  'dynamodb:PutItem',
  'dynamodb:ConditionCheckItem',
]);

/** The IAM actions of a reader of the log (`read`, `head`). */
const READ_ACTIONS = Object.freeze(['dynamodb:Query', 'dynamodb:GetItem']);

/**
 * A Tidemark event log: a DynamoDB table keyed by aggregate (`pk`, string) and version (`sk`,
 * number), with a `NEW_IMAGE` stream for the publisher, on-demand billing, point-in-time recovery,
 * encryption at rest, and retained when it leaves the stack.
 *
 * Grant writers {@link grantAppend}, never the table's own `grantWriteData`: the log's items are
 * immutable, and a role that can update or delete them can rewrite history.
 *
 * @example
 * ```ts
 * import { EventLogTable } from '@tidemark/cdk';
 *
 * const log = new EventLogTable(this, 'TaskLog');
 * log.grantAppend(taskApi);
 * taskApi.addEnvironment('TASK_LOG_TABLE', log.tableName);
 * ```
 */
export class EventLogTable extends Construct {
  /** The underlying table. */
  readonly table: Table;

  constructor(scope: Construct, id: string, props: EventLogTableProps = {}) {
    super(scope, id);
    const parsed = parseProps(propsSchema, props, 'EventLogTable', this);
    const description = eventLogTableDescription('unused');
    const typeOf = (name: string) =>
      description.AttributeDefinitions.find((attribute) => attribute.AttributeName === name)
        ?.AttributeType === 'N'
        ? AttributeType.NUMBER
        : AttributeType.STRING;
    this.table = new Table(this, 'Table', {
      ...(parsed.tableName === undefined ? {} : { tableName: parsed.tableName }),
      partitionKey: { name: EVENT_LOG_KEY.partitionKey, type: typeOf(EVENT_LOG_KEY.partitionKey) },
      sortKey: { name: EVENT_LOG_KEY.sortKey, type: typeOf(EVENT_LOG_KEY.sortKey) },
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_IMAGE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(parsed.encryptionKey === undefined
        ? { encryption: TableEncryption.AWS_MANAGED }
        : { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: parsed.encryptionKey }),
      removalPolicy: parsed.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** The table's name. */
  get tableName(): string {
    return this.table.tableName;
  }

  /** The table's ARN. */
  get tableArn(): string {
    return this.table.tableArn;
  }

  /** The ARN of the table's `NEW_IMAGE` stream (the publisher's event source). */
  get tableStreamArn(): string {
    // The table is always created with a stream.
    return this.table.tableStreamArn as string;
  }

  /**
   * Grants exactly what `createEventLog` needs to append and read (`Query`, `GetItem`, `PutItem`,
   * `ConditionCheckItem` on the table; the key's use with a customer managed key) — never
   * `UpdateItem` or `DeleteItem`.
   *
   * @example
   * ```ts
   * log.grantAppend(commandHandler);
   * ```
   */
  grantAppend(grantee: IGrantable): Grant {
    this.table.encryptionKey?.grantEncryptDecrypt(grantee);
    return Grant.addToPrincipal({
      grantee,
      actions: [...APPEND_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
  }

  /**
   * Grants what a reader of the log needs (`read`, `head`: `Query` and `GetItem`).
   *
   * @example
   * ```ts
   * log.grantRead(auditFunction);
   * ```
   */
  grantRead(grantee: IGrantable): Grant {
    this.table.encryptionKey?.grantDecrypt(grantee);
    return Grant.addToPrincipal({ grantee, actions: [...READ_ACTIONS], resourceArns: [this.table.tableArn] });
  }

  /**
   * Grants reading the table's stream (what a publisher's event source mapping reads with):
   * `DescribeStream`, `GetRecords`, `GetShardIterator` on the stream and `ListStreams`.
   *
   * @example
   * ```ts
   * log.grantStreamRead(publisherFunction);
   * ```
   */
  grantStreamRead(grantee: IGrantable): Grant {
    return this.table.grantStreamRead(grantee);
  }
}
