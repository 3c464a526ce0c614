/**
 * Reads what the invariant checker needs straight from each service's database with `pg` (not through the services'
 * APIs: the check must not trust the code it checks).
 */
import pg from 'pg';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import type { DbSnapshot, IdempotencyRow } from './invariants';

/** One REPEATABLE READ transaction per database: its tables are read as one consistent view. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } finally {
    await client.end();
  }
}

export const rows = async <T>(c: pg.Client, sql: string, params: unknown[] = []): Promise<T[]> =>
  (await c.query(sql, params)).rows as T[];

/** A table that does not exist (yet: a migration still to come) reads as no rows. */
async function rowsIfTable<T>(c: pg.Client, table: string, sql: string): Promise<T[]> {
  const { rows: found } = await c.query('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return found[0].present ? rows<T>(c, sql) : [];
}

export async function readSnapshot(databaseUrls: Record<ServiceName, string>): Promise<DbSnapshot> {
  const idempotency = {} as Record<ServiceName, IdempotencyRow[]>;
  for (const name of SERVICE_NAMES) {
    idempotency[name] = await withClient(databaseUrls[name], (c) =>
      rows(c, 'SELECT key, operation, status_code FROM idempotency_records ORDER BY key'),
    );
  }
  const [orders, deadLetters] = await withClient(
    databaseUrls.orders,
    async (c) =>
      [
        await rows<DbSnapshot['orders'][number]>(
          c,
          'SELECT id, customer_id, status::text AS status FROM orders ORDER BY id',
        ),
        await rowsIfTable<DbSnapshot['deadLetters'][number]>(
          c,
          'dead_letters',
          'SELECT saga_id, step, status::text AS status FROM dead_letters ORDER BY id',
        ),
      ] as const,
  );
  const [products, reservations, reservationLines] = await withClient(
    databaseUrls.inventory,
    async (c) =>
      [
        await rows<DbSnapshot['products'][number]>(c, 'SELECT sku, available, held, sold FROM products ORDER BY sku'),
        await rows<DbSnapshot['reservations'][number]>(
          c,
          'SELECT order_id, status::text AS status, total_cents FROM reservations ORDER BY order_id',
        ),
        await rows<DbSnapshot['reservationLines'][number]>(
          c,
          'SELECT order_id, sku, quantity FROM reservation_lines ORDER BY order_id, sku',
        ),
      ] as const,
  );
  const [customers, payments] = await withClient(
    databaseUrls.payments,
    async (c) =>
      [
        await rows<DbSnapshot['customers'][number]>(
          c,
          'SELECT id, balance_cents, credit_limit_cents FROM customers ORDER BY id',
        ),
        await rows<DbSnapshot['payments'][number]>(
          c,
          'SELECT order_id, customer_id, amount_cents, status::text AS status FROM payments ORDER BY order_id',
        ),
      ] as const,
  );
  const shipments = await withClient(databaseUrls.shipping, (c) =>
    rows<DbSnapshot['shipments'][number]>(
      c,
      'SELECT order_id, status::text AS status, tracking_number, country FROM shipments ORDER BY order_id',
    ),
  );
  return { orders, products, reservations, reservationLines, customers, payments, shipments, idempotency, deadLetters };
}
