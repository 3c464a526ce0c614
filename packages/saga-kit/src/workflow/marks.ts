import type { CompensationStatus, StepStatus } from './types';

/**
 * One mark a step's or compensation's status: the web UI's current details (renderDetails) and the CLI's timeline
 * print the same ones. Pure data, safe in the workflow bundle.
 */
export const STATUS_MARKS: Readonly<Record<StepStatus | CompensationStatus, string>> = {
  PENDING: '·',
  RUNNING: '▶',
  COMPLETED: '✔',
  FAILED: '✘',
  DEAD_LETTERED: '⚠',
  RESOLVED: '✍',
  NOT_RUN: '–',
};
