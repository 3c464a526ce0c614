/**
 * What the explorer needs to know about a saga beyond its definition: how to make a fresh business input for a key,
 * how to read its business outcome from its result, its invariants (the pure function the chaos run uses too), and
 * how an operator undoes a compensation's work by hand (the request the compensation sends). One entry per saga;
 * a registered saga without one is listed as not explored.
 *
 * To declare a new saga's invariants: write them as one pure function over that saga's rows for one business key and
 * its outcome (scripts/chaos/order-invariants.ts, return-invariants.ts), then add a profile here that calls it.
 */
import type { Client } from '@temporalio/client';
import type { ServiceClient } from '../../activities/service-client';
import { awaitSagaResult, startSaga } from '../../cli/saga-client';
import type { ServiceName } from '../../services/catalog';
import { orderSaga } from '../../workflows/order-saga';
import { returnSaga } from '../../workflows/return-saga';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import type { SagaOutcomeKind } from '../chaos/invariants';
import { checkOrderSaga, orderRowsOf, type OrderSagaRows } from '../chaos/order-invariants';
import { checkReturn, type ReturnOutcomeKind, type ReturnRows } from '../chaos/return-invariants';
import { readReturnRows } from '../chaos/return-rows';
import { readSnapshot } from '../chaos/snapshot';

/** How a saga's workflow ended, as the driver saw it. */
export type Ended = { result: unknown } | { cancelled: true } | { failed: string };

export interface ServiceRequest {
  service: ServiceName;
  path: string;
  body: unknown;
}

/** What a profile may use to set up a saga's preconditions (e.g. the delivered order a return needs). */
export interface ExploreContext {
  client: Client;
  taskQueue: string;
  services: ServiceClient;
}

export interface ExploreProfile<Rows = unknown> {
  saga: SagaDefinition;
  /**
   * The business's point of no return, when the explorer should hold the definition to it rather than read it from
   * the definition (which is what it checks): for the order saga, once the customer is charged the order is kept.
   */
  pivot?: string;
  /** A fresh input whose business key is `key`, after setting up what the saga needs to exist. */
  input(key: string, ctx: ExploreContext): Promise<unknown>;
  /** The business outcome (APPROVED, REJECTED, …) of a saga that ended so. */
  outcome(ended: Ended): SagaOutcomeKind | string;
  /** The rows of every service for the saga's business key, read with `pg`. */
  readRows(databaseUrls: Record<ServiceName, string>, input: unknown): Promise<Rows>;
  /** The saga's invariants: the pure function over those rows and the outcome (the one the chaos run uses). */
  check(input: unknown, outcome: string, rows: Rows): string[];
  /** The rows, except idempotency records: compared before and after a compensation is replayed. */
  effectRows(rows: Rows): unknown;
  /** The idempotency keys the services recorded for the saga's requests (in those rows). */
  requestKeys(rows: Rows): string[];
  /** The request a compensation sends, with the saga's reason (an operator sends the same by hand before resolving it). */
  compensationRequest(compensation: string, input: unknown, reason: string): ServiceRequest;
}

type OrderInput = { orderId: string; customerId: string };

export const orderProfile: ExploreProfile<OrderSagaRows> = {
  saga: orderSaga,
  pivot: 'charge-payment',
  input: async (key) => ({
    orderId: key,
    customerId: 'cust-alice',
    items: [{ sku: 'KB-001', quantity: 1 }],
    destination: {
      recipient: `Explore ${key}`,
      line1: '1 Test Street',
      city: 'Testville',
      postalCode: '12345',
      country: 'DE',
    },
  }),
  outcome: (ended) =>
    'cancelled' in ended ? 'CANCELLED' : 'failed' in ended ? 'FAILED' : (ended.result as { status: string }).status,
  readRows: async (databaseUrls, input) => orderRowsOf(await readSnapshot(databaseUrls), (input as OrderInput).orderId),
  check: (input, outcome, rows) => {
    const { orderId, customerId } = input as OrderInput;
    return checkOrderSaga({ orderId, customerId, outcome: outcome as SagaOutcomeKind }, rows);
  },
  effectRows: ({ idempotency: _keys, ...rows }) => rows,
  requestKeys: (rows) => rows.idempotency.map((r) => r.key),
  compensationRequest: (compensation, input, reason) => {
    const id = encodeURIComponent((input as OrderInput).orderId);
    const body = { reason };
    const requests: Record<string, ServiceRequest> = {
      'reject-order': { service: 'orders', path: `/orders/${id}/reject`, body },
      'cancel-order': { service: 'orders', path: `/orders/${id}/cancel`, body },
      'release-inventory': { service: 'inventory', path: `/reservations/${id}/release`, body },
      'cancel-shipment': { service: 'shipping', path: `/shipments/${id}/cancel`, body },
      'refund-payment': { service: 'payments', path: `/payments/${id}/refund`, body },
    };
    const request = requests[compensation];
    if (!request) throw new Error(`the order saga has no compensation ${compensation}`);
    return request;
  },
};

type ReturnInput = { returnId: string; orderId: string };

/** A return needs an approved order the carrier delivered: placed with the order saga, delivered as the demo does. */
async function deliveredOrder(orderId: string, ctx: ExploreContext): Promise<void> {
  await startSaga(ctx.client, ctx.taskQueue, orderSaga, (await orderProfile.input(orderId, ctx)) as never);
  const placed = await awaitSagaResult(ctx.client, orderId);
  if (placed.outcome !== 'completed' || (placed.result as { status?: string }).status !== 'APPROVED')
    throw new Error(`the order to return, ${orderId}, was not approved`);
  await ctx.services.call(
    'shipping',
    'POST',
    `/shipments/${encodeURIComponent(orderId)}/deliver`,
    {},
    { idempotencyKey: `${orderId}:deliver` },
  );
}

export const returnProfile: ExploreProfile<ReturnRows> = {
  saga: returnSaga,
  pivot: 'refund-payment',
  input: async (key, ctx) => {
    const orderId = `${key}-order`;
    await deliveredOrder(orderId, ctx);
    return { returnId: key, orderId, reason: 'explore: does not fit' };
  },
  outcome: (ended) =>
    'cancelled' in ended ? 'CANCELLED' : 'failed' in ended ? 'FAILED' : (ended.result as { status: string }).status,
  readRows: (databaseUrls, input) =>
    readReturnRows(databaseUrls, (input as ReturnInput).returnId, (input as ReturnInput).orderId),
  check: (input, outcome, rows) =>
    checkReturn({ ...(input as ReturnInput), outcome: outcome as ReturnOutcomeKind }, rows),
  effectRows: ({ idempotency: _keys, ...rows }) => rows,
  requestKeys: (rows) => rows.idempotency.map((r) => r.key),
  compensationRequest: (compensation, input, reason) => {
    const id = encodeURIComponent((input as ReturnInput).returnId);
    const requests: Record<string, ServiceRequest> = {
      'cancel-return': { service: 'orders', path: `/returns/${id}/cancel`, body: { reason } },
      'cancel-return-pickup': { service: 'shipping', path: `/return-pickups/${id}/cancel`, body: { reason } },
      'void-refund': { service: 'payments', path: `/refunds/${id}/void`, body: { reason } },
    };
    const request = requests[compensation];
    if (!request) throw new Error(`the return saga has no compensation ${compensation}`);
    return request;
  },
};

/** Explore profiles by saga name. */
export const EXPLORE_PROFILES: Record<string, ExploreProfile> = {
  [orderProfile.saga.name]: orderProfile,
  [returnProfile.saga.name]: returnProfile,
};
