import { msToNumber } from '@temporalio/common/lib/time';
import type { RetryPolicy } from '@temporalio/workflow';
import { z } from 'zod';
import { recoveryRequestSchema, type SagaRecoveryRequest } from './recovery';

/**
 * How one saga run executes, separate from its business input: the workflow's second argument. Every saga made with
 * defineSaga takes these; a saga's definition sets its own defaults (SagaDefaults), a start may override them. What
 * changes how the saga compensates (parallel, continue-on-error) is the definition's alone.
 */
const durationSchema = z.union([z.number().int().positive(), z.string().regex(/^\d+(ms|s|m|h|d)$/)]);
const retrySchema = z
  .object({
    initialInterval: durationSchema.optional(),
    maximumInterval: durationSchema.optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maximumAttempts: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  // Temporal refuses such a policy when the step is scheduled, which the saga would take for a failed step.
  .refine(
    (r) => !r.initialInterval || !r.maximumInterval || msToNumber(r.initialInterval) <= msToNumber(r.maximumInterval),
    {
      message: 'initialInterval must not be longer than maximumInterval',
    },
  );

/** Milliseconds, or a whole number with a unit: "500ms", "90s", "5m", "2h", "1d". */
type RunDuration = number | string;

/** A retry policy's fields a start may override (each optional, merged over the definition's). */
interface RetryOverrideFields {
  initialInterval?: RunDuration;
  maximumInterval?: RunDuration;
  backoffCoefficient?: number;
  maximumAttempts?: number;
}

/**
 * How one run executes, besides its business input: what a start may override for an operator or a test. Nothing
 * here changes how the saga compensates (that is its definition's).
 */
export interface SagaRunOptions {
  /** Retry policy of the forward steps up to the pivot (after it, steps retry without limit). */
  stepRetry?: RetryOverrideFields;
  /** Retry policy of the compensations. */
  compensationRetry?: RetryOverrideFields;
  /** Start-to-close timeout of every step's and compensation's activities. */
  stepTimeout?: RunDuration;
  /** Run every step and compensation as local activities (see StepOptions.local). */
  localActivities?: boolean;
  /** The saga's deadline to reach its pivot; past it, the saga compensates. */
  deadline?: RunDuration;
  /**
   * Set by the recovery sweep, never by a start: this run finishes what an ended run left (see SagaClient.recover).
   */
  recover?: SagaRecoveryRequest;
}

export const sagaRunOptionsSchema: z.ZodType<SagaRunOptions> = z
  .object({
    /** Retry policy of the forward steps up to the pivot (after it, steps retry without limit). */
    stepRetry: retrySchema.optional(),
    /** Retry policy of the compensations. */
    compensationRetry: retrySchema.optional(),
    /** Start-to-close timeout of each activity. */
    stepTimeout: durationSchema.optional(),
    /**
     * Run steps and compensations as local activities: executed by the worker that runs the workflow, with no task
     * queue round trip and far fewer workflow tasks. The price: the web UI shows them as markers rather than
     * activities, and a long retry back-off is held by the worker. Default false.
     */
    localActivities: z.boolean().optional(),
    /** The saga's deadline to reach its pivot; past it, the saga compensates. */
    deadline: durationSchema.optional(),
    /** A recovery run's request (the recovery sweep's). */
    recover: recoveryRequestSchema.optional(),
  })
  .strict();

export type RetryOverride = SagaRunOptions['stepRetry'];
type Duration = z.infer<typeof durationSchema>;
export type BaseRetry = {
  initialInterval: Duration;
  backoffCoefficient: number;
  maximumInterval: Duration;
  maximumAttempts?: number;
};

/** A saga definition's defaults for what a run may override; every field has a kit default (KIT_DEFAULTS). */
export interface SagaDefaults {
  stepTimeout: Duration;
  /** Up to the pivot. */
  stepRetry: BaseRetry;
  /** After the pivot: no attempt limit, these steps must eventually succeed. */
  retriableRetry: BaseRetry;
  /** Compensations are worth more patience than forward steps. */
  compensationRetry: BaseRetry;
  /** How long a saga may take to reach its pivot. */
  deadline: Duration;
}

/**
 * The kit's defaults per step kind: a 15 s start-to-close timeout; forward steps up to the pivot retried 5 times;
 * retriable steps after it without limit; compensations 20 times, more patiently; a 1 h deadline to the pivot. A
 * definition's `defaults` and a step's own `options` override them.
 */
export const KIT_DEFAULTS: SagaDefaults = {
  stepTimeout: '15s',
  stepRetry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
  retriableRetry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s' },
  compensationRetry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 20 },
  deadline: '1h',
};

/** Writing to the dead-letter log must not give up: the operator's only trace outside Temporal is that row. */
export const DEAD_LETTER_RETRY: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };

/** A default policy with a run's overrides; a first interval longer than the default cap raises the cap. */
export function retryPolicy(defaults: BaseRetry, override: RetryOverride): RetryPolicy {
  const merged: RetryPolicy = { ...defaults, ...override };
  if (
    override?.initialInterval &&
    !override.maximumInterval &&
    msToNumber(override.initialInterval) > msToNumber(defaults.maximumInterval)
  ) {
    merged.maximumInterval = override.initialInterval;
  }
  return merged;
}
