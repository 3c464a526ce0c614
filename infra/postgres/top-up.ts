/**
 * Top-ups after seeding, with SQL on the services' own databases, so that long runs do not end in "insufficient funds"
 * or "out of stock" only (not part of the services: their seeds stay what a newcomer sees).
 *   chaos  (the chaos run, the explorer): cust-alice and the plentiful SKUs; MN-003 (25), LT-005 (1) and the poorer
 *          customers keep their seed values, so running out still happens.
 *   bench  thousands of sagas never run out of any SKU or of cust-alice's money; cust-broke is left at 5.00 so that
 *          the compensated series is rejected at the pivot.
 */
import pg from 'pg';
import type { ServiceName } from '../../services/catalog';

export type TopUp = 'chaos' | 'bench';

const TOP_UPS: Record<TopUp, Partial<Record<ServiceName, string[]>>> = {
  chaos: {
    inventory: ["UPDATE products SET available = 100000 WHERE sku IN ('KB-001', 'MS-002', 'CB-004')"],
    payments: ["UPDATE customers SET balance_cents = 50000000 WHERE id = 'cust-alice'"],
  },
  bench: {
    inventory: ['UPDATE products SET available = 1000000'],
    payments: ["UPDATE customers SET balance_cents = 2000000000 WHERE id = 'cust-alice'"],
  },
};

export async function topUp(kind: TopUp, databaseUrls: Partial<Record<ServiceName, string>>): Promise<void> {
  for (const [name, statements] of Object.entries(TOP_UPS[kind]) as [ServiceName, string[]][]) {
    const client = new pg.Client({ connectionString: databaseUrls[name] });
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
