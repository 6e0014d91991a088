import { defineCatalog, defineEvent } from '@tidemark/core';
import { z } from 'zod';

/** The aggregate type of projects in the project service's log and on the stream. */
export const PROJECT_AGGREGATE_TYPE = 'Project';
/** The `source` of every event the project service appends. */
export const PROJECT_SERVICE_SOURCE = '/project-service';

const projectName = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

/** A project was created. */
export const ProjectCreated = defineEvent({
  type: 'ProjectCreated',
  schemaVersion: 1,
  aggregateType: PROJECT_AGGREGATE_TYPE,
  description: 'A project was created.',
  schema: z.object({ name: projectName }),
});

/** A project was deleted (it carries the project's name); the task service deletes its tasks. */
export const ProjectDeleted = defineEvent({
  type: 'ProjectDeleted',
  schemaVersion: 1,
  aggregateType: PROJECT_AGGREGATE_TYPE,
  description: 'A project was deleted.',
  schema: z.object({ name: projectName }),
});

/** Every event the project service publishes. */
export const projectEvents = defineCatalog([ProjectCreated, ProjectDeleted]);

/** The project service's event catalog type. */
export type ProjectEvents = typeof projectEvents;
