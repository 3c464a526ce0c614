/**
 * The explorer's workflow interceptor for "cancel just before a step": holds a step's completed activity result in
 * the workflow, so that a cancellation arrives after that step COMPLETED and before the next step is scheduled.
 * Bundled only into the explorer's dev-server bundle (environment.ts); inert unless a saga is signalled; no
 * production bundle, contract or setting knows of it.
 *
 * Why this and not timing: the previous step's completion and the cancellation request must reach the saga in that
 * order, with no workflow task in between that schedules the next step. Racing a cancellation against the
 * completion (a service delay plus the worker's workflow-task latency) gets either "during" or "after" depending on
 * load. Here the order is fixed by the history itself: the activity completes (its event recorded), the result
 * waits in a non-cancellable condition, the driver sees it held (query), requests the cancellation, sees the saga
 * has it (query), and only then signals the release: the saga code resumes already cancelled, with the step done.
 *
 *   signal explore-hold <action>     hold the result of the activity scheduled for that step (send it early)
 *   query  explore-held              { held: actions whose result is held, cancelled: the saga's cancellation seen }
 *   signal explore-release <action>  let it through
 */
import { defaultPayloadConverter } from '@temporalio/common';
import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  setHandler,
  type WorkflowInterceptors,
} from '@temporalio/workflow';

/** The header the saga kit puts on every activity a saga schedules: the step or compensation it serves. */
const SAGA_ACTION_HEADER = 'saga-action';

export const holdSignal = defineSignal<[string]>('explore-hold');
export const releaseSignal = defineSignal<[string]>('explore-release');
export const heldQuery = defineQuery<{ held: string[]; cancelled: boolean }>('explore-held');

export const interceptors = (): WorkflowInterceptors => {
  const toHold = new Set<string>();
  const held = new Set<string>();
  const released = new Set<string>();
  let root: CancellationScope | undefined;
  return {
    inbound: [
      {
        execute: (input, next) => {
          // In the workflow's context here (handlers registered before the saga's code runs; earlier signals wait).
          root = CancellationScope.current();
          setHandler(holdSignal, (action) => void toHold.add(action));
          setHandler(releaseSignal, (action) => void released.add(action));
          setHandler(heldQuery, () => ({ held: [...held], cancelled: root?.consideredCancelled ?? false }));
          return next(input);
        },
      },
    ],
    outbound: [
      {
        // After the kit's interceptor (bundled first), so the activity's headers already name its action.
        scheduleActivity: async (input, next) => {
          const header = input.headers[SAGA_ACTION_HEADER];
          const action = header ? defaultPayloadConverter.fromPayload<string>(header) : undefined;
          const result = await next(input);
          if (action !== undefined && toHold.has(action)) {
            held.add(action);
            await CancellationScope.nonCancellable(() => condition(() => released.has(action)));
            held.delete(action);
          }
          return result;
        },
      },
    ],
  };
};
