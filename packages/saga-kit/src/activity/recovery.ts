import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { sagaStateQuery } from '../workflow/define';
import { ACTION_HEADER } from '../workflow/headers';
import type { ActionOutcome, EndedRunProgress, SagaRecoveryRequest } from '../workflow/recovery';
import type { EndedSagaRun, RecoveryActivities, StuckSagaRun } from '../workflow/recovery-sweep';
import type { SagaRunOptions } from '../workflow/run-options';
import { SAGA_STATUS } from '../workflow/search-attributes';
import type { SagaStatus } from '../workflow/types';

/**
 * The recovery sweep's activities (../workflow/recovery-sweep.ts), added to every saga worker by sagaWorkerOptions.
 * They use the worker's own Temporal client (its connection and data converter: an encrypted saga's input is read
 * and written with the worker's keys) to find the runs to recover, read their histories and start recovery runs.
 */

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The statuses a saga can be in while it still has work to do: a run that ended in one of them left that work. */
const UNFINISHED: SagaStatus[] = ['RUNNING', 'COMMITTED', 'COMPENSATING', 'NEEDS_ATTENTION', 'RECOVERING'];
const inList = (values: string[]) => `(${values.map((v) => `'${v}'`).join(', ')})`;
const ENDED_QUERY = `ExecutionStatus IN ('Terminated', 'TimedOut') AND ${SAGA_STATUS.name} IN ${inList(UNFINISHED)}`;
const STUCK_QUERY = `ExecutionStatus = 'Running' AND ${SAGA_STATUS.name} IS NOT NULL AND TemporalReportedProblems IS NOT NULL`;
/** How a stuck run's termination reason starts: a later sweep that finds it terminated knows it was stuck. */
const STUCK_REASON = 'saga stuck';
/** The kit's own activities, which serve no action of the saga. */
const KIT_ACTIVITY_TYPES = new Set(['recordDeadLetter', 'closeDeadLetter']);

export function recoveryActivities(): RecoveryActivities {
  const client = (): Client => Context.current().client;
  return {
    async findStuckSagaRuns() {
      const found: StuckSagaRun[] = [];
      for await (const wf of client().workflow.list({ query: STUCK_QUERY })) {
        const history = await client().workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        const sinceMs = failingSince(history.events ?? []) ?? Date.now();
        found.push({
          sagaId: wf.workflowId,
          runId: wf.runId,
          workflowType: wf.type,
          failingForMs: Math.max(0, Date.now() - sinceMs),
          problems: (wf.searchAttributes.TemporalReportedProblems as string[] | undefined) ?? [],
        });
      }
      return found;
    },

    async terminateStuckSagaRun(run) {
      const seconds = Math.round(run.failingForMs / 1000);
      await client()
        .workflow.getHandle(run.sagaId, run.runId)
        .terminate(`${STUCK_REASON}: its workflow task has failed for ${seconds} s (${run.problems.join(', ')})`)
        .catch((err: Error) => {
          // Terminated already (by an earlier attempt of this activity, or an operator): recovered all the same.
          if (err.name !== 'WorkflowNotFoundError') throw err;
        });
    },

    async findEndedSagaRuns() {
      const found: EndedSagaRun[] = [];
      for await (const wf of client().workflow.list({ query: ENDED_QUERY })) {
        found.push({
          sagaId: wf.workflowId,
          runId: wf.runId,
          workflowType: wf.type,
          ended: wf.status.name === 'TIMED_OUT' ? 'TIMED_OUT' : 'TERMINATED',
        });
      }
      return found;
    },

    async recoverEndedSagaRun(run) {
      // Only the latest run of a saga id is recovered: a later one (its recovery, or a new saga) has taken over.
      const latest = await client().workflow.getHandle(run.sagaId).describe();
      if (latest.runId !== run.runId) return { skipped: `run ${latest.runId} of ${run.sagaId} came after it` };

      const handle = client().workflow.getHandle(run.sagaId, run.runId);
      const history = await handle.fetchHistory();
      const events = history.events ?? [];
      const started = events[0]?.workflowExecutionStartedEventAttributes;
      if (!started) throw new Error(`the history of ${run.sagaId} (${run.runId}) has no start event`);
      const [input, options = {}] = (await decodeArrayFromPayloads(
        client().options.loadedDataConverter,
        started.input?.payloads,
      )) as [unknown, SagaRunOptions?];
      const reason = endReason(events.at(-1));
      const request: SagaRecoveryRequest = {
        runId: run.runId,
        // A recovery of a recovery keeps the first chain's keys.
        keyRoot: options.recover?.keyRoot ?? started.firstExecutionRunId ?? run.runId,
        ended: run.ended === 'TERMINATED' && reason.startsWith(STUCK_REASON) ? 'STUCK' : run.ended,
        reason,
        progress: await progressOf(handle, events),
      };
      const { recover: _previous, ...runOptions } = options;
      try {
        const recovery = await client().workflow.start(run.workflowType, {
          workflowId: run.sagaId,
          taskQueue: started.taskQueue?.name ?? '',
          args: [input, { ...runOptions, recover: request }],
          // The ended run was terminated or timed out, which this policy allows to be followed; a start of a new saga
          // with the same key keeps being refused (the client's REJECT_DUPLICATE).
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          typedSearchAttributes: [{ key: SAGA_STATUS, value: 'RECOVERING' }],
          staticSummary: `Recovery of run ${run.runId} (${request.ended.toLowerCase().replace('_', ' ')})`,
        });
        return { recoveryRunId: recovery.firstExecutionRunId };
      } catch (err) {
        // Another sweep started it first (or it ran and completed already): nothing left to do here.
        if (err instanceof WorkflowExecutionAlreadyStartedError) return { skipped: 'a recovery run started first' };
        throw err;
      }
    },
  };
}

/**
 * When the run's workflow task started failing: the first failure since the last task that completed. Temporal writes
 * only that first failure to the history (its retries are transient), so its time is when the trouble began.
 */
function failingSince(events: HistoryEvent[]): number | undefined {
  let since: number | undefined;
  for (const e of events) {
    if (e.workflowTaskCompletedEventAttributes) since = undefined;
    if (e.workflowTaskFailedEventAttributes && since === undefined && e.eventTime)
      since = Number(e.eventTime.seconds) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6);
  }
  return since;
}

/** Why the run ended, as its last event records it. */
function endReason(last: HistoryEvent | undefined): string {
  const terminated = last?.workflowExecutionTerminatedEventAttributes;
  if (terminated) return terminated.reason || 'terminated without a reason';
  if (last?.workflowExecutionTimedOutEventAttributes) return 'its workflow run timeout passed';
  return 'ended';
}

/**
 * How far the run got: its own state, from a query (a worker replays the run with the saga's code), or, when the run
 * cannot be replayed (the code changed under it: the usual reason it was stuck), what its history's events show.
 */
async function progressOf(handle: WorkflowHandle, events: HistoryEvent[]): Promise<EndedRunProgress> {
  try {
    const state = await handle.query(sagaStateQuery);
    return { source: 'state', state };
  } catch {
    return { source: 'history', actions: actionsOf(events) };
  }
}

/**
 * Per saga action (the saga-action header the kit puts on every activity it schedules), what its activities did: an
 * action whose latest activity of each type completed is COMPLETED; one still open or failed may have taken effect.
 * Local activities carry no headers in the history (their markers), so they are not seen here.
 */
export function actionsOf(events: HistoryEvent[]): Record<string, ActionOutcome> {
  const scheduled = new Map<string, { action: string; type: string }>();
  const latest = new Map<string, Map<string, ActionOutcome>>();
  const set = (eventId: unknown, outcome: ActionOutcome) => {
    const s = scheduled.get(String(eventId));
    if (s) latest.get(s.action)!.set(s.type, outcome);
  };
  for (const e of events) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) {
      const header = a.header?.fields?.[ACTION_HEADER];
      const type = a.activityType?.name ?? '';
      if (!header || KIT_ACTIVITY_TYPES.has(type)) continue;
      const action = defaultPayloadConverter.fromPayload<string>(header);
      scheduled.set(String(e.eventId), { action, type });
      if (!latest.has(action)) latest.set(action, new Map());
      latest.get(action)!.set(type, 'OPEN');
    }
    if (e.activityTaskCompletedEventAttributes)
      set(e.activityTaskCompletedEventAttributes.scheduledEventId, 'COMPLETED');
    const failed =
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (failed) set(failed.scheduledEventId, 'FAILED');
  }
  const actions: Record<string, ActionOutcome> = {};
  for (const [action, types] of latest) {
    const outcomes = [...types.values()];
    actions[action] = outcomes.every((o) => o === 'COMPLETED')
      ? 'COMPLETED'
      : outcomes.includes('OPEN')
        ? 'OPEN'
        : 'FAILED';
  }
  return actions;
}
