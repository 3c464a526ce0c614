/**
 * After seeding, cust-alice and the plentiful SKUs are topped up with SQL (as the bench does), so a long chaos run is
 * not all "insufficient funds"; MN-003 (25) and LT-005 (1) and the poorer customers keep their seed values, so running
 * out still happens.
 */
import pg from 'pg';
import type { ServiceName } from '../../services/catalog';

const TOP_UP: Partial<Record<ServiceName, string[]>> = {
  inventory: ["UPDATE products SET available = 100000 WHERE sku IN ('KB-001', 'MS-002', 'CB-004')"],
  payments: ["UPDATE customers SET balance_cents = 50000000 WHERE id = 'cust-alice'"],
};

export async function topUp(name: ServiceName, databaseUrl: string): Promise<void> {
  for (const sql of TOP_UP[name] ?? []) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  }
}
