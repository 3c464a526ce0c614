/**
 * Reads one return saga's rows (return-invariants.ts) straight from each service's database with `pg`, not through
 * the services' APIs: the check must not trust the code it checks.
 */
import type { ServiceName } from '../../services/catalog';
import { SERVICE_NAMES } from '../../services/catalog';
import type { ReturnRows } from './return-invariants';
import { rows, withClient } from './snapshot';

export async function readReturnRows(
  databaseUrls: Record<ServiceName, string>,
  returnId: string,
  orderId: string,
): Promise<ReturnRows> {
  const first = async <T>(url: string, sql: string, params: unknown[]) =>
    (await withClient(url, (c) => rows<T>(c, sql, params)))[0];
  const [order, returns, openDeadLetters] = await withClient(
    databaseUrls.orders,
    async (c) =>
      [
        (
          await rows<ReturnRows['order'] & object>(
            c,
            'SELECT id, status::text AS status, return_id FROM orders WHERE id = $1',
            [orderId],
          )
        )[0],
        await rows<ReturnRows['returns'][number]>(
          c,
          'SELECT id, order_id, status::text AS status FROM returns WHERE id = $1',
          [returnId],
        ),
        (
          await rows<{ step: string }>(
            c,
            "SELECT step FROM dead_letters WHERE saga_id = $1 AND status = 'OPEN' ORDER BY id",
            [returnId],
          )
        ).map((d) => d.step),
      ] as const,
  );
  const reservation = await first<ReturnRows['reservation'] & object>(
    databaseUrls.inventory,
    'SELECT order_id, status::text AS status, return_id FROM reservations WHERE order_id = $1',
    [orderId],
  );
  const [shipment, pickups] = await withClient(
    databaseUrls.shipping,
    async (c) =>
      [
        (
          await rows<ReturnRows['shipment'] & object>(
            c,
            'SELECT order_id, status::text AS status, return_id FROM shipments WHERE order_id = $1',
            [orderId],
          )
        )[0],
        await rows<ReturnRows['pickups'][number]>(
          c,
          'SELECT return_id, order_id, status::text AS status FROM return_pickups WHERE return_id = $1',
          [returnId],
        ),
      ] as const,
  );
  const [payment, refunds] = await withClient(
    databaseUrls.payments,
    async (c) =>
      [
        (
          await rows<ReturnRows['payment'] & object>(
            c,
            'SELECT order_id, customer_id, amount_cents, status::text AS status FROM payments WHERE order_id = $1',
            [orderId],
          )
        )[0],
        await rows<ReturnRows['refunds'][number]>(
          c,
          'SELECT return_id, order_id, customer_id, amount_cents, status::text AS status FROM refunds WHERE return_id = $1 OR order_id = $2 ORDER BY return_id',
          [returnId, orderId],
        ),
      ] as const,
  );
  const idempotency: ReturnRows['idempotency'] = [];
  for (const service of SERVICE_NAMES) {
    const keys = await withClient(databaseUrls[service], (c) =>
      rows<{ key: string; status_code: number }>(
        c,
        'SELECT key, status_code FROM idempotency_records WHERE starts_with(key, $1) ORDER BY key',
        [`${returnId}:`],
      ),
    );
    idempotency.push(...keys.map((k) => ({ service, ...k })));
  }
  return { order, returns, reservation, shipment, pickups, payment, refunds, idempotency, openDeadLetters };
}
