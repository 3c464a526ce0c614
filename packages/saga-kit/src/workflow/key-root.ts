import { workflowInfo } from '@temporalio/workflow';

/**
 * The root of a saga's idempotency keys: the first run id of its run chain, the same across Temporal's re-executions
 * of one saga (reset, retry, continue-as-new). A recovery run (recovery.ts) is a new chain under the same workflow id,
 * so it adopts the root of the run it repairs: its activities then carry that run's keys, and what that run already
 * did is answered from the participants' stored answers instead of being done twice. Module state is per workflow
 * in the SDK's sandbox; the workflow interceptor (interceptors.ts) reads it when it schedules an activity.
 */
let adopted: string | undefined;

export function useKeyRoot(root: string): void {
  adopted = root;
}

export function keyRoot(): string {
  return adopted ?? workflowInfo().firstExecutionRunId;
}
