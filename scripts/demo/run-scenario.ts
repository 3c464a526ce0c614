import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { workflowUiLink } from '../../cli/connect';
import { toResultView, type ResultView } from '../../cli/render';
import { awaitSagaResult, describeSaga, getSagaState, startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import { returnSaga } from '../../workflows/return-saga';
import type { SagaView } from 'temporal-saga-kit/workflow';
import { authTokenFile, DEFAULT_DATA_DIR, readTokenFile } from '../../infra/stack';
import { attemptsPerStep } from './attempts';
import { startProgress } from './progress';
import type { FinalState, Scenario } from './scenarios';
import type { DemoTarget } from './target';

/** One scenario's entry in the --json document. */
export interface ScenarioReport {
  name: string;
  orderId: string;
  uiUrl: string;
  expected: FinalState;
  /** null when the scenario could not get as far as an outcome (see error). */
  actual: FinalState | null;
  pass: boolean;
  durationMs: number;
  /** What the scenario did while the saga ran (the cancellation), if anything. */
  during?: string;
  error?: string;
}

/** What the text report shows besides the JSON entry: the saga's end, its timeline, the order's own record. */
export interface ScenarioDetails {
  result?: ResultView;
  workflowStatus?: string;
  state?: SagaView;
  order?: OrderRecord | null;
  attempts?: Record<string, number>;
}

export interface OrderRecord {
  status: string;
  reason?: string | null;
}

const POLL_MS = 250;

export async function runScenario(
  target: DemoTarget,
  scenario: Scenario,
  timeoutMs: number,
): Promise<{ report: ScenarioReport; details: ScenarioDetails }> {
  const { client, config } = target;
  // Unique per run: the order id is the workflow id, and Temporal refuses a second saga for the same one.
  const orderId = `demo-${scenario.name}-${randomBytes(3).toString('hex')}`;
  const report: ScenarioReport = {
    name: scenario.name,
    orderId,
    uiUrl: workflowUiLink(config, orderId)!,
    expected: scenario.expected,
    actual: null,
    pass: false,
    durationMs: 0,
  };
  const details: ScenarioDetails = {};
  const started = Date.now();
  const progress = startProgress(scenario.name);
  let ended = false;
  // A return scenario's saga is the return (its id is the scenario's); the order it returns is placed first.
  const saga = scenario.returnOf ? returnSaga : orderSaga;
  const businessOrderId = scenario.returnOf ? `${orderId}-order` : orderId;
  try {
    if (scenario.returnOf) {
      await placeOrderToReturn(target, businessOrderId, scenario, timeoutMs);
      await startSaga(client, config.taskQueue, returnSaga, {
        returnId: orderId,
        orderId: businessOrderId,
        reason: scenario.returnOf.reason,
        faults: scenario.returnOf.faults,
      });
    } else {
      await startSaga(client, config.taskQueue, orderSaga, { orderId, ...scenario.order });
    }
    const during = scenario.during?.(client, orderId).then(
      (note) => void (report.during = note || undefined),
      (err: Error) => void (report.during = `failed: ${err.message}`),
    );
    // Progress comes from the saga's own state (its query), polled until the result arrives.
    const polling = (async () => {
      while (!ended) {
        progress.update(await getSagaState(client, orderId).catch(() => undefined));
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    })();
    const outcome = await withTimeout(
      awaitSagaResult(client, orderId),
      timeoutMs,
      () =>
        `the saga did not end within ${timeoutMs / 1000} s: is a worker polling task queue ${config.taskQueue}? (${report.uiUrl})`,
    );
    ended = true;
    await Promise.all([polling, during]);

    details.result = toResultView(saga.name, orderId, outcome);
    details.state =
      (outcome.outcome === 'completed' ? undefined : outcome.state) ?? (await getSagaState(client, orderId));
    details.workflowStatus = (await describeSaga(client, orderId)).status.name;
    details.order = await fetchOrder(target, businessOrderId);
    details.attempts = await attemptsPerStep(client, orderId);
    report.actual = finalState(scenario.expected, details.result, details.state, details.order, details.attempts);
    report.pass = isDeepStrictEqual(report.actual, report.expected);
  } catch (err) {
    report.error = (err as Error).message;
  } finally {
    ended = true;
    progress.stop();
    report.durationMs = Date.now() - started;
  }
  return { report, details };
}

/**
 * The order a return scenario returns: placed by an order saga (it must end APPROVED) and, if the scenario says so,
 * reported delivered by the carrier: a write to the shipping service, so it needs the orchestrator's token.
 */
async function placeOrderToReturn(
  target: DemoTarget,
  orderId: string,
  scenario: Scenario,
  timeoutMs: number,
): Promise<void> {
  await startSaga(target.client, target.config.taskQueue, orderSaga, { orderId, ...scenario.order });
  const placed = await withTimeout(
    awaitSagaResult(target.client, orderId),
    timeoutMs,
    () => `the order ${orderId} to return did not end within ${timeoutMs / 1000} s`,
  );
  if (placed.outcome !== 'completed' || (placed.result as { status?: string }).status !== 'APPROVED') {
    throw new Error(`the order to return, ${orderId}, was not approved: ${JSON.stringify(placed)}`);
  }
  if (!scenario.returnOf?.delivered) return;
  if (!target.authToken) {
    throw new Error(
      `reporting the delivery of ${orderId} needs the orchestrator's token: set SERVICE_AUTH_TOKEN (npm start writes it to ${authTokenFile(process.env.DATA_DIR ?? DEFAULT_DATA_DIR)})`,
    );
  }
  const url = `${target.serviceUrls.shipping}/shipments/${encodeURIComponent(orderId)}/deliver`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${target.authToken}`,
      'content-type': 'application/json',
      'idempotency-key': `${orderId}:deliver`,
    },
    body: '{}',
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
}

function finalState(
  expected: FinalState,
  result: ResultView,
  state: SagaView,
  order: OrderRecord | null,
  attempts: Record<string, number>,
): FinalState {
  const actual: FinalState = {
    outcome: result.outcome as FinalState['outcome'],
    orderStatus: order?.status ?? null,
    sagaStatus: state.status,
    compensations: state.compensations
      .filter((c) => c.status === 'COMPLETED')
      .map((c) => c.name as FinalState['compensations'][number]),
  };
  // Only the steps the scenario is about: how often the others were tried is not part of its promise.
  if (expected.attempts)
    actual.attempts = Object.fromEntries(Object.keys(expected.attempts).map((step) => [step, attempts[step] ?? 0]));
  return actual;
}

/** The order as the orders service recorded it: the business outcome, independent of what Temporal says. */
async function fetchOrder(target: DemoTarget, orderId: string): Promise<OrderRecord | null> {
  const url = `${target.serviceUrls.orders}/orders/${encodeURIComponent(orderId)}`;
  const headers: Record<string, string> = target.readToken ? { authorization: `Bearer ${target.readToken}` } : {};
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  if (res.status === 401)
    throw new Error(
      `GET ${url} answered 401: set SERVICE_READ_TOKEN to the stack's read token (npm start writes it to ${readTokenFile(process.env.DATA_DIR ?? DEFAULT_DATA_DIR)})`,
    );
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as OrderRecord;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message())), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
