import pg from 'pg';

/**
 * Every row of every business table, as JSON: a test takes one before and one after a request and compares them to
 * prove that nothing at all was written (not just that the status code was a 4xx).
 */
export async function snapshotTables(databaseUrl: string): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
       ORDER BY table_name`,
    );
    const snapshot: Record<string, unknown[]> = {};
    for (const { table_name } of tables) {
      const { rows } = await client.query(`SELECT * FROM "${table_name}"`);
      snapshot[table_name] = rows.map((r) => JSON.stringify(r)).sort();
    }
    return snapshot;
  } finally {
    await client.end();
  }
}
