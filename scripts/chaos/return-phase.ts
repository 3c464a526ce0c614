/**
 * The chaos run's second phase: returns of the orders the first phase approved. The carrier reports most of them
 * delivered (some too long ago for the return window, some not at all), then return sagas run with injected faults,
 * client cancellations and a worker SIGKILL in the middle; each one is checked with the return saga's invariants
 * (return-invariants.ts) on the rows of its own return, read from the databases.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { startSaga } from '../../cli/saga-client';
import { returnSaga } from '../../workflows/return-saga';
import type { SagaRunOptions } from 'temporal-saga-kit/workflow';
import { runBatch } from '../bench/load';
import type { ServiceName } from '../../services/catalog';
import { awaitOutcome, startWithRetry, watchNeedsAttention } from './saga-watch';
import type { CheckResult } from './invariants';
import { planReturns, type ReturnPlan } from './return-plan';
import { checkReturn, type ReturnSagaOutcome } from './return-invariants';
import { readReturnRows } from './return-rows';

export interface ReturnPhaseOptions {
  client: Client;
  taskQueue: string;
  serviceUrls: Record<ServiceName, string>;
  databaseUrls: Record<ServiceName, string>;
  /** The orchestrator's token: the carrier's delivery reports are writes to the shipping service. */
  authToken: string;
  seed: number;
  /** Share of the approved orders that are returned. */
  ratio: number;
  cancelRatio: number;
  concurrency: number;
  sagaTimeoutMs: number;
  options: SagaRunOptions;
  /** SIGKILLs a worker and restarts it; called once, when half the returns have ended. */
  kill?: () => Promise<unknown>;
}

export interface ReturnRecord extends ReturnSagaOutcome {
  delivered: 'recently' | 'too long ago' | 'not delivered';
  cancelRequested: boolean;
  faults?: Record<string, string>;
}

export interface ReturnPhaseReport {
  records: ReturnRecord[];
  outcomes: Record<string, number>;
  check: CheckResult;
}

export async function runReturnPhase(o: ReturnPhaseOptions, approvedOrderIds: string[]): Promise<ReturnPhaseReport> {
  const plans = planReturns({
    seed: o.seed,
    approvedOrderIds,
    ratio: o.ratio,
    cancelRatio: o.cancelRatio,
    options: o.options,
  });
  for (const plan of plans) if (plan.deliveredDaysAgo !== undefined) await reportDelivery(o, plan);

  const records: ReturnRecord[] = [];
  let ended = 0;
  let killed: Promise<unknown> | undefined;
  const byId = new Map(plans.map((p) => [p.input.returnId, p]));
  const result = await runBatch(
    async (returnId) => {
      const plan = byId.get(returnId)!;
      const handle = await startWithRetry(o.client, returnId, () =>
        startSaga(o.client, o.taskQueue, returnSaga, plan.input, { workflowTaskTimeout: '3s' }),
      );
      let cancelRequested = false;
      const cancelTimer =
        plan.cancelAfterMs === undefined
          ? undefined
          : setTimeout(() => {
              cancelRequested = true;
              handle.cancel().catch(() => undefined);
            }, plan.cancelAfterMs);
      const done = { value: false };
      const stopWaiting = new AbortController();
      const outcome = await Promise.race([
        awaitOutcome(o.client, handle, stopWaiting.signal),
        watchNeedsAttention(handle, done, 3000),
        sleep(o.sagaTimeoutMs).then(() => ({
          outcome: 'TIMED_OUT' as const,
          detail: `not ended after ${o.sagaTimeoutMs} ms`,
        })),
      ]);
      done.value = true;
      stopWaiting.abort();
      clearTimeout(cancelTimer);
      records.push({
        returnId,
        orderId: plan.input.orderId,
        outcome: outcome.outcome as ReturnSagaOutcome['outcome'],
        detail: outcome.detail,
        delivered:
          plan.deliveredDaysAgo === undefined
            ? 'not delivered'
            : plan.deliveredDaysAgo > 30
              ? 'too long ago'
              : 'recently',
        cancelRequested,
        faults: plan.input.faults,
      });
      if (++ended === Math.ceil(plans.length / 2) && o.kill) killed = o.kill();
    },
    plans.map((p) => p.input.returnId),
    o.concurrency,
  );
  await killed;
  if (result.errors.length)
    throw new Error(`${result.errors.length} return saga(s) could not be run: ${result.errors.slice(0, 3).join('; ')}`);

  records.sort((a, b) => a.returnId.localeCompare(b.returnId));
  const violations: string[] = [];
  const outcomes: Record<string, number> = {};
  for (const r of records) {
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    violations.push(...checkReturn(r, await readReturnRows(o.databaseUrls, r.returnId, r.orderId)));
  }
  const by = (d: ReturnRecord['delivered']) => records.filter((r) => r.delivered === d).length;
  const figures = {
    returns: records.length,
    ...outcomes,
    delivered: by('recently'),
    late: by('too long ago'),
    undelivered: by('not delivered'),
  };
  return {
    records,
    outcomes,
    check: {
      id: 6,
      name: 'every return consistent in every service',
      summary: `${records.length} returns of approved orders (${figures.delivered} delivered recently, ${figures.late} too long ago, ${figures.undelivered} not delivered): ${
        Object.entries(outcomes)
          .map(([k, n]) => `${k.toLowerCase()} ${n}`)
          .join(', ') || 'none'
      }`,
      figures,
      violations,
    },
  };
}

/** The carrier's delivery report for a planned return's order, `deliveredDaysAgo` days ago. */
async function reportDelivery(o: ReturnPhaseOptions, plan: ReturnPlan): Promise<void> {
  const orderId = plan.input.orderId;
  const deliveredAt = new Date(Date.now() - plan.deliveredDaysAgo! * 24 * 60 * 60 * 1000).toISOString();
  const url = `${o.serviceUrls.shipping}/shipments/${encodeURIComponent(orderId)}/deliver`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${o.authToken}`,
      'content-type': 'application/json',
      'idempotency-key': `${orderId}:deliver`,
    },
    body: JSON.stringify({ deliveredAt }),
  });
  if (!res.ok) throw new Error(`delivering ${orderId}: ${res.status} ${await res.text()}`);
}
