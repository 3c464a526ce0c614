import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { temporal } from '@temporalio/proto';
import { bundleSagaWorkflows } from '../runtime/saga-worker';
import { payloadDataConverter } from '../runtime/payload-codec';

type History = temporal.api.history.v1.IHistory;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * Replays the histories of the workflows on the server that a visibility query selects (by default the sagas that
 * are running now) against this working tree's workflow code: the check to run before deploying a workflow change.
 * A change that would break a running saga (a step added, removed or reordered without `patched()`) shows up here
 * as a non-determinism error naming the workflow and the history event where the new code parted from the old.
 */
export interface ReplayedWorkflow {
  workflowId: string;
  runId: string;
  workflowType?: string;
  /** Set when the replay failed. */
  failure?: { kind: 'nondeterminism' | 'error'; message: string; event?: string };
}

export interface ReplaySummary {
  query: string;
  workflowsPath: string;
  total: number;
  replayed: number;
  nondeterministic: number;
  failed: number;
  workflows: ReplayedWorkflow[];
}

export interface ReplayLiveOptions {
  query: string;
  workflowsPath: string;
  /** Called once the number of workflows is known, then after each replay. */
  onTotal?(total: number): void;
  onReplayed?(workflow: ReplayedWorkflow): void;
}

/** The replay worker's lines (bundle report, replay progress) are for debugging: only warnings reach the terminal. */
function quietRuntime(): void {
  try {
    // Core logs each failed replay task as a warning of its own; the command reports it, once.
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'WARN' } } },
    });
  } catch {
    // already installed (a test process, or a command that ran before): keep it
  }
}

/** "ActivityTaskScheduled" from EVENT_TYPE_ACTIVITY_TASK_SCHEDULED. */
function eventTypeName(event: HistoryEvent): string {
  const name = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'UNKNOWN';
  return name
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

function describeEvent(event: HistoryEvent, detail?: string): string {
  return `event ${String(event.eventId)} (${eventTypeName(event)}${detail ? `: ${detail}` : ''})`;
}

const payloadText = (event: HistoryEvent) =>
  Object.values(event.markerRecordedEventAttributes?.details ?? {})
    .flatMap((p) => p.payloads ?? [])
    .map((p) => Buffer.from(p.data ?? []).toString())
    .join(' ');

/**
 * Where in the history the code parted from it, e.g. "event 5 (MarkerRecorded: patch X)" or "event 11
 * (ActivityTaskScheduled: scheduleShipment)": core's message names the event, the patch or the activity type; the
 * history gives its id and type.
 */
function nondeterministicEvent(message: string, history: History | undefined): string | undefined {
  const events = history?.events ?? [];
  const byId = /HistoryEvent\(id: (\d+)/.exec(message)?.[1] ?? /event[_ ]id[:= ]+(\d+)/i.exec(message)?.[1];
  if (byId) {
    const event = events.find((e) => String(e.eventId) === byId);
    return event ? describeEvent(event) : `event ${byId}`;
  }
  const patch = /patch marker encountered for change ([^\s,]+)/i.exec(message)?.[1];
  if (patch) {
    const event = events.find((e) => e.markerRecordedEventAttributes && payloadText(e).includes(patch));
    if (event) return describeEvent(event, `patch ${patch}`);
  }
  const activity = /scheduled event '([^']+)'/i.exec(message)?.[1];
  if (activity) {
    const event = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
    if (event) return describeEvent(event, activity);
  }
  return undefined;
}

/** The part of the SDK's long message that says what differs: "[TMPRL1100] Nondeterminism error: ...". */
function coreMessage(message: string): string {
  return /message: "([^"]+)"/.exec(message)?.[1] ?? message.split('\n')[0];
}

export async function bundleForReplay(workflowsPath: string): Promise<WorkflowBundleWithSourceMap> {
  quietRuntime();
  // With the kit's workflow interceptors, as the worker bundles it: the replay runs what the worker would run.
  return bundleSagaWorkflows({ workflowsPath, logger: new DefaultLogger('WARN') });
}

export async function replayLive(
  client: Client,
  bundle: WorkflowBundleWithSourceMap,
  options: ReplayLiveOptions,
): Promise<ReplaySummary> {
  quietRuntime();
  const { count } = await client.workflow.count(options.query);
  options.onTotal?.(count);
  const types = new Map<string, string>();
  const fetched = new Map<string, History>();
  async function* histories() {
    for await (const execution of client.workflow.list({ query: options.query })) {
      types.set(execution.workflowId, execution.type);
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      fetched.set(execution.workflowId, history);
      yield { workflowId: execution.workflowId, history };
    }
  }
  const workflows: ReplayedWorkflow[] = [];
  for await (const result of Worker.runReplayHistories(
    {
      workflowBundle: bundle,
      replayName: 'live replay',
      // The histories hold what the server holds: encrypted payloads (failures' messages too) are decoded with the
      // client's codec, under the failure converter the workers use.
      dataConverter: {
        ...payloadDataConverter(undefined),
        payloadCodecs: client.options.loadedDataConverter.payloadCodecs,
      },
    },
    histories(),
  )) {
    const replayed: ReplayedWorkflow = {
      workflowId: result.workflowId,
      runId: result.runId,
      workflowType: types.get(result.workflowId),
    };
    if (result.error) {
      const message = result.error.message;
      replayed.failure =
        result.error instanceof DeterminismViolationError
          ? {
              kind: 'nondeterminism',
              message: coreMessage(message),
              event: nondeterministicEvent(message, fetched.get(result.workflowId)),
            }
          : { kind: 'error', message: coreMessage(message) };
    }
    workflows.push(replayed);
    options.onReplayed?.(replayed);
  }
  return {
    query: options.query,
    workflowsPath: options.workflowsPath,
    total: workflows.length,
    replayed: workflows.filter((w) => !w.failure).length,
    nondeterministic: workflows.filter((w) => w.failure?.kind === 'nondeterminism').length,
    failed: workflows.filter((w) => w.failure?.kind === 'error').length,
    workflows,
  };
}
