/** The service limits a command's events must fit, and what the log writes to keep them. */

/** Events one command may append: a transaction holds 100 items, one is the version check. */
export const MAX_EVENTS_PER_COMMAND = 99;
/**
 * DynamoDB's limit on the total size of one transaction (4 MB), and the bytes kept free below it:
 * `append` refuses a command whose transaction (every item, the version check's key, and every
 * expression, name and value) counts more than `MAX_TRANSACTION_BYTES - TRANSACTION_SIZE_MARGIN_BYTES`,
 * so that a difference between this count and DynamoDB's own (whose exact rule is not published)
 * never lets one reach DynamoDB. Counted by `@tidemark/core/internal`, shared with the consumer.
 */
export { MAX_TRANSACTION_BYTES, TRANSACTION_SIZE_MARGIN_BYTES } from '@tidemark/core/internal';

/**
 * The attributes of an event-log item that give its command's version range: the publisher
 * completes a command that a stream batch holds only part of.
 */
export const COMMAND_ITEM_ATTRIBUTES = Object.freeze({
  /** The version of the command's first event (number). */
  firstVersion: 'commandFirstVersion',
  /** The version of the command's last event (number). */
  lastVersion: 'commandLastVersion',
} as const);
