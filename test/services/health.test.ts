import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { InventoryDb } from '../../services/inventory/db';
import { inventoryService } from '../../services/inventory/service';
import { HEALTH_PROBE_INTERVAL_MS } from '../../services/shared/app';
import { httpClient } from '../support/http';
import { startTestService } from '../support/services';

/**
 * GET /health is open to anyone: it must not be a way to load the database. A real service on a real database;
 * the database round trips are counted by PostgreSQL itself (pg_stat_database.xact_commit for the service's own
 * database: every query the service runs outside a transaction block commits one), read from another database so
 * that the reading does not count.
 */
describe('health: answered from a cached probe', () => {
  let service: Awaited<ReturnType<typeof startTestService<InventoryDb>>>;
  let api: ReturnType<typeof httpClient>;
  let observer: pg.Client;
  let database: string;

  /**
   * Transactions committed in the service's database so far. A backend reports its counters when it goes idle, but at
   * most once a second, else up to PGSTAT_IDLE_INTERVAL (10 s, pgstat.c) later: read once that has passed.
   */
  async function committed(): Promise<number> {
    await sleep(11_000);
    const { rows } = await observer.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [database]);
    return Number(rows[0].xact_commit);
  }

  before(async () => {
    service = await startTestService(inventoryService);
    api = httpClient(service.url);
    const url = new URL(service.databaseUrl);
    database = url.pathname.slice(1);
    url.pathname = '/postgres';
    observer = new pg.Client({ connectionString: url.toString() });
    await observer.connect();
  });
  after(async () => {
    await observer?.end();
    await service?.close();
  });

  it('200 concurrent health checks cost at most a couple of database round trips; the answer is probed again once an interval has passed', async () => {
    const health = () => api.get('/health', { auth: false });
    assert.equal((await health()).status, 200);
    const start = await committed();
    const sent = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, health));
    const tookMs = Date.now() - sent;
    const afterBurst = await committed();
    assert.deepEqual(
      [...new Set(answers.map((a) => `${a.status} ${JSON.stringify(a.body)}`))],
      ['200 {"service":"inventory","status":"ok"}'],
    );
    // One probe per interval the burst lasted (one, unless the machine is very slow), plus the start-up of a pool
    // connection (the pool closed its idle ones while the counters were awaited): a couple, against 200.
    const allowed = 2 + Math.floor(tookMs / HEALTH_PROBE_INTERVAL_MS);
    assert.ok(
      afterBurst - start <= allowed,
      `200 health checks in ${tookMs} ms ran ${afterBurst - start} transactions on the database (at most ${allowed})`,
    );

    // Three bursts, each one probe interval after the last: each probes once (not a cache that never expires).
    for (let i = 0; i < 3; i++) {
      await sleep(HEALTH_PROBE_INTERVAL_MS + 100);
      await Promise.all(Array.from({ length: 20 }, health));
    }
    const probes = (await committed()) - afterBurst;
    console.log(
      `      xact_commit: ${afterBurst - start} for 200 concurrent checks (${tookMs} ms), ${probes} for three bursts an interval apart`,
    );
    assert.ok(probes >= 3 && probes <= 6, `three bursts of 20, an interval apart: ${probes} transactions (3 probes)`);
  });

  it('turns 503 (in the error contract) once the database is gone', async () => {
    await observer.query(`DROP DATABASE "${database}" WITH (FORCE)`);
    const deadline = Date.now() + HEALTH_PROBE_INTERVAL_MS + 5_000;
    let res = await api.get('/health', { auth: false });
    while (res.status === 200 && Date.now() < deadline) {
      await sleep(100);
      res = await api.get('/health', { auth: false });
    }
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'unavailable');
    assert.ok(res.body.error.message.length > 0);
  });
});
