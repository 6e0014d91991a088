import {
  type AnyEventCatalog,
  aggregateKey,
  createEnvelope,
  type DomainEvent,
  type EventMetadata,
  type Ulid,
} from '@tidemark/core';
import { CommandIdNotIncreasingError, ConcurrencyError } from '@tidemark/event-log';
import type { AggregateLog, ProjectDirectory, ProjectStatus } from '../../src/ports';

/**
 * An event log in memory with the rules of the real one that the commands rely on: contiguous
 * versions (a stale expected version throws the publisher's ConcurrencyError), one command id
 * appends once, command ids strictly increase per aggregate (else CommandIdNotIncreasingError),
 * events validated by the catalog.
 */
export class InMemoryLog<TEvent extends DomainEvent>
  implements AggregateLog<TEvent, { type: string; data: Record<string, unknown> }>
{
  readonly appends: { aggregateId: string; commandId: Ulid; types: string[] }[] = [];
  private readonly events = new Map<string, TEvent[]>();
  /** Called once before the next append: lets a test slip in a concurrent writer. */
  beforeNextAppend?: () => Promise<void>;

  constructor(
    private readonly catalog: AnyEventCatalog,
    private readonly aggregateType: string,
    private readonly source: string,
  ) {}

  async read(aggregateId: string): Promise<readonly TEvent[]> {
    return [...(this.events.get(aggregateId) ?? [])];
  }

  async append(input: {
    aggregateId: string;
    expectedVersion: number;
    commandId: Ulid;
    events: readonly { type: string; data: Record<string, unknown> }[];
    metadata?: EventMetadata;
  }): Promise<void> {
    const hook = this.beforeNextAppend;
    this.beforeNextAppend = undefined;
    await hook?.();
    const existing = this.events.get(input.aggregateId) ?? [];
    if (existing.some((event) => event.commandId === input.commandId)) return;
    const last = existing.at(-1);
    if (last !== undefined && input.commandId <= last.commandId) {
      throw new CommandIdNotIncreasingError({
        aggregateKey: aggregateKey({ type: this.aggregateType, id: input.aggregateId }),
        commandId: input.commandId,
        lastCommandId: last.commandId,
        version: existing.length,
      });
    }
    if (existing.length !== input.expectedVersion) {
      throw new ConcurrencyError(`${input.aggregateId} moved on`, {
        aggregateKey: aggregateKey({ type: this.aggregateType, id: input.aggregateId }),
        commandId: input.commandId,
        expectedVersion: input.expectedVersion,
        actualVersion: existing.length,
        lastCommandId: existing.at(-1)?.commandId,
      });
    }
    const appended = input.events.map((event, index) => {
      const envelope = createEnvelope({
        source: this.source,
        type: event.type,
        aggregate: { type: this.aggregateType, id: input.aggregateId },
        version: existing.length + index + 1,
        commandId: input.commandId,
        data: event.data,
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
      });
      // parse validates the payload against the event's schema, as the real log does.
      return this.catalog.parse(envelope) as TEvent;
    });
    this.events.set(input.aggregateId, [...existing, ...appended]);
    this.appends.push({
      aggregateId: input.aggregateId,
      commandId: input.commandId,
      types: input.events.map((e) => e.type),
    });
  }
}

/** A project directory in memory. */
export class InMemoryProjects implements ProjectDirectory {
  readonly statuses = new Map<string, ProjectStatus>();
  async status(projectId: string): Promise<ProjectStatus> {
    return this.statuses.get(projectId) ?? 'unknown';
  }
}
