/**
 * The series of the benchmark and the closed-loop load generator. Used by run.ts (client in the bench process)
 * and by worker-process.ts (client on the worker's NativeConnection, needed for eager workflow start).
 */
import type { Client } from '@temporalio/client';
import { ServiceClient } from '../../activities/service-client';
import { startSaga, type SagaRequest } from '../../cli/saga-client';
import { plainOrderWorkflow, SAGA_SHAPE_ACTIVITIES, sagaShapeFloor, sagaShapeFloorLocal } from './floor-workflows';
import { orderSaga, type OrderSagaResult } from '../../workflows/order-saga';

export const SERIES = [
  'call-floor',
  'plain',
  'floor',
  'floor-local',
  'plain-workflow',
  'saga',
  'compensated',
  'saga-local',
] as const;
export type SeriesName = (typeof SERIES)[number];
/** Series that run no workflow: their operations are HTTP calls made by the bench process itself. */
export const DIRECT_SERIES: readonly SeriesName[] = ['call-floor', 'plain'];

export const SERIES_LABEL: Record<SeriesName, string> = {
  'call-floor': 'floor of a service call (7 × an HTTP round trip + one PostgreSQL round trip, same app frame)',
  plain: 'plain chain (7 HTTP calls, no Temporal)',
  floor: "Temporal floor of the saga's shape (7 no-op activities, the saga's timeouts and retry policies)",
  'floor-local':
    "Temporal floor of saga-local's shape (7 no-op local activities, the saga's timeouts and retry policies)",
  'plain-workflow': "the saga's 7 activities on the real services in a plain workflow (no saga engine)",
  saga: 'order saga, happy path (7 activities)',
  compensated: 'order saga, rejected at the pivot (4 + 3 compensations)',
  'saga-local': 'order saga, happy path, steps as local activities (options.localActivities)',
};

const DESTINATION = {
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country: 'DE',
};

export function sagaInput(
  series: 'saga' | 'compensated' | 'saga-local',
  orderId: string,
): SagaRequest<typeof orderSaga> {
  if (series === 'saga-local') return { ...sagaInput('saga', orderId), options: { localActivities: true } };
  return series === 'saga'
    ? // cust-alice, topped up by the bench set-up; CB-004 (9.00), stock topped up.
      { orderId, customerId: 'cust-alice', items: [{ sku: 'CB-004', quantity: 1 }], destination: DESTINATION }
    : // cust-broke has 5.00: the charge (89.00) is refused at the pivot → cancel shipment, release, reject order.
      { orderId, customerId: 'cust-broke', items: [{ sku: 'KB-001', quantity: 1 }], destination: DESTINATION };
}

export interface LoadContext {
  client?: Client;
  taskQueue: string;
  serviceClient?: ServiceClient;
  /** A client whose every service URL is the bench's floor endpoint (services-process.ts). */
  floorClient?: ServiceClient;
  eager: boolean;
  /** Per-call durations of the plain chain, when set (filled by the plain op). */
  callTimes?: Record<string, number[]>;
}

export type Op = (id: string) => Promise<void>;

async function timed<T>(ctx: LoadContext, name: string, fn: () => Promise<T>): Promise<T> {
  if (!ctx.callTimes) return fn();
  const t0 = performance.now();
  const result = await fn();
  (ctx.callTimes[name] ??= []).push(performance.now() - t0);
  return result;
}

export function makeOp(series: SeriesName, ctx: LoadContext): Op {
  switch (series) {
    case 'call-floor': {
      const s = ctx.floorClient!;
      // As many calls as the chain, each with an Idempotency-Key and a small JSON body like the saga's.
      return async (id) => {
        for (let i = 0; i < 7; i++) {
          await timed(ctx, 'http+pg floor', () =>
            s.call('orders', 'POST', '/floor', { orderId: id, step: i }, { idempotencyKey: `${id}:floor${i}` }),
          );
        }
      };
    }
    case 'plain': {
      const s = ctx.serviceClient!;
      // The saga's seven forward calls, in its order, with its idempotency keys (<order id>:<activity name>).
      return async (orderId) => {
        const key = (activity: string) => ({ idempotencyKey: `${orderId}:${activity}` });
        const input = sagaInput('saga', orderId);
        const enc = encodeURIComponent(orderId);
        await timed(ctx, 'createOrder', () =>
          s.call(
            'orders',
            'POST',
            '/orders',
            { orderId, customerId: input.customerId, items: input.items },
            key('createOrder'),
          ),
        );
        const reservation = await timed(ctx, 'reserveInventory', () =>
          s.call<{ totalCents: number }>(
            'inventory',
            'POST',
            '/reservations',
            { orderId, items: input.items },
            key('reserveInventory'),
          ),
        );
        await timed(ctx, 'scheduleShipment', () =>
          s.call(
            'shipping',
            'POST',
            '/shipments',
            { orderId, destination: input.destination },
            key('scheduleShipment'),
          ),
        );
        await timed(ctx, 'chargePayment', () =>
          s.call(
            'payments',
            'POST',
            '/payments',
            { orderId, customerId: input.customerId, amountCents: reservation.totalCents },
            key('chargePayment'),
          ),
        );
        await timed(ctx, 'confirmReservation', () =>
          s.call('inventory', 'POST', `/reservations/${enc}/confirm`, {}, key('confirmReservation')),
        );
        await timed(ctx, 'confirmShipment', () =>
          s.call('shipping', 'POST', `/shipments/${enc}/confirm`, {}, key('confirmShipment')),
        );
        const order = await timed(ctx, 'approveOrder', () =>
          s.call<{ status: string }>('orders', 'POST', `/orders/${enc}/approve`, {}, key('approveOrder')),
        );
        if (order.status !== 'APPROVED') throw new Error(`plain chain ${orderId}: order ended ${order.status}`);
      };
    }
    case 'floor':
    case 'floor-local':
      return async (id) => {
        const n = await ctx.client!.workflow.execute(series === 'floor' ? sagaShapeFloor : sagaShapeFloorLocal, {
          taskQueue: ctx.taskQueue,
          workflowId: id,
          args: [],
          ...(ctx.eager ? { requestEagerStart: true } : {}),
        });
        if (n !== SAGA_SHAPE_ACTIVITIES) throw new Error(`${series} ${id} returned ${n}`);
      };
    case 'plain-workflow':
      return async (id) => {
        const { options: _, ...input } = sagaInput('saga', id);
        const status = await ctx.client!.workflow.execute(plainOrderWorkflow, {
          taskQueue: ctx.taskQueue,
          workflowId: id,
          args: [input],
          ...(ctx.eager ? { requestEagerStart: true } : {}),
        });
        if (status !== 'APPROVED') throw new Error(`plainOrderWorkflow ${id} ended ${status}`);
      };
    case 'saga':
    case 'saga-local':
    case 'compensated': {
      const expected = series === 'compensated' ? 'REJECTED' : 'APPROVED';
      return async (id) => {
        const handle = await startSaga(
          ctx.client!,
          ctx.taskQueue,
          orderSaga,
          sagaInput(series, id),
          ctx.eager ? { requestEagerStart: true } : {},
        );
        const result = (await handle.result()) as OrderSagaResult;
        if (result.status !== expected)
          throw new Error(
            `saga ${id} ended ${result.status} (${'reason' in result ? result.reason : ''}), expected ${expected}`,
          );
      };
    }
  }
}

export interface BatchResult {
  latenciesMs: number[];
  wallMs: number;
  errors: string[];
}

/** Closed loop: `concurrency` callers, each starting the next operation as soon as its previous one ends. */
export async function runBatch(op: Op, ids: string[], concurrency: number, onDone?: () => void): Promise<BatchResult> {
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const s = performance.now();
      try {
        await op(id);
        latenciesMs.push(performance.now() - s);
      } catch (err) {
        errors.push(`${id}: ${(err as Error).message}`);
      }
      onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, lane));
  return { latenciesMs, wallMs: performance.now() - t0, errors };
}
