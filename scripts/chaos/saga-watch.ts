/**
 * How the chaos run (and its return phase) follows a saga through killed servers: a start asked again while the
 * server cannot answer, the result awaited again after a connection error, a parked saga seen by its SagaStatus.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { SagaAlreadyStartedError } from '../../cli/saga-client';
import type { OrderSagaResult } from '../../workflows/order-saga';
import { SAGA_STATUS } from 'temporal-saga-kit/client';
import type { SagaOutcomeKind } from './invariants';

export type Classified = { outcome: SagaOutcomeKind; detail?: string };

/** How a saga's workflow ended, from its result. */
export async function awaitOutcome(client: Client, handle: WorkflowHandle, signal: AbortSignal): Promise<Classified> {
  for (;;) {
    try {
      // Abortable: a parked saga's result never comes, and a long poll left running outlives the connection.
      const result = (await client.withAbortSignal(signal, () => handle.result())) as OrderSagaResult;
      return { outcome: result.status, detail: 'reason' in result ? result.reason : undefined };
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) {
        // Not the saga's ending but the server's (a killed frontend or history, PostgreSQL restarting): ask again.
        if (signal.aborted) return { outcome: 'FAILED', detail: (err as Error).message };
        await sleep(1000);
        continue;
      }
      const cause = (err as { cause?: { name?: string; message?: string } }).cause;
      if (cause?.name === 'CancelledFailure') return { outcome: 'CANCELLED' };
      return { outcome: 'FAILED', detail: cause?.message ?? (err as Error).message };
    }
  }
}

/** A read the run needs, asked again (up to 10 times, a second apart) while the server cannot answer. */
export async function withRetries<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 10) throw err;
      await sleep(1000);
    }
  }
}

/** Starts the saga, asking again while the server cannot answer; a start that did land the first time is found. */
export async function startWithRetry(
  client: Client,
  workflowId: string,
  start: () => Promise<WorkflowHandle>,
): Promise<WorkflowHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (err instanceof SagaAlreadyStartedError && attempt > 1) return client.workflow.getHandle(workflowId);
      if (attempt >= 60 || err instanceof SagaAlreadyStartedError) throw err;
      await sleep(1000);
    }
  }
}

/**
 * A saga parked for an operator keeps running, so its result never comes: watch its SagaStatus search attribute
 * (a describe, answered by the server alone, not by the worker) for NEEDS_ATTENTION.
 */
export async function watchNeedsAttention(
  handle: WorkflowHandle,
  done: { value: boolean },
  everyMs: number,
): Promise<Classified> {
  for (;;) {
    await sleep(everyMs);
    if (done.value) return new Promise<never>(() => undefined);
    const status = await handle
      .describe()
      .then((d) => d.typedSearchAttributes.get(SAGA_STATUS))
      .catch(() => undefined);
    if (status === 'NEEDS_ATTENTION') return { outcome: 'NEEDS_ATTENTION', detail: 'parked for an operator' };
  }
}
