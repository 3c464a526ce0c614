/**
 * The Temporal headers the kit uses to carry test knobs outside a saga's business contract. Pure constants and
 * types: imported by the workflow interceptors, the activity interceptor and the client interceptor alike.
 *
 *   saga-faults   on the workflow start (client interceptor): the fault plan, action name → fault spec
 *   saga-action   on every activity the kit schedules (workflow interceptor): the step or compensation it serves
 *   saga-fault    on an activity whose action has a planned fault: that spec (read by the activity interceptor)
 *   saga-run      on every activity the saga schedules: the first run id of the saga's run chain, the same across
 *                 Temporal's re-executions of one saga (reset, workflow retry, continue-as-new) and new for a new
 *                 saga that reuses the workflow id: what the activity's idempotency key is made from
 */
export const FAULT_PLAN_HEADER = 'saga-faults';
export const ACTION_HEADER = 'saga-action';
export const FAULT_HEADER = 'saga-fault';
export const RUN_HEADER = 'saga-run';

/** A fault plan: per step or compensation name, a spec such as "transient:2,delay:300" (grammar: services/shared/fault-spec.ts). */
export type FaultPlan<Action extends string = string> = Partial<Record<Action, string>>;
