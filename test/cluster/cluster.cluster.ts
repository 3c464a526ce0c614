/**
 * The Temporal cluster itself (`npm run test:cluster` only: the run's shared cluster, see test/support/temporal-target.ts):
 * the server built from the Go module, its four roles as four processes on their own ports, the committed
 * configuration's 8 history shards in PostgreSQL, the namespace and the saga's search attribute registered, and
 * sagas spread over two worker processes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import pg from 'pg';
import { startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import { isPortInUse } from '../../runtime/ports';
import { CLUSTER_HISTORY_SHARDS, CLUSTER_ROLES, type TemporalCluster } from '../../infra/temporal/cluster/cluster';
import { requireServerBinaries, TEMPORAL_SERVER_VERSION } from '../../infra/temporal/cluster/server-binary';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { assertSagaEnds, waitFor } from '../reliability/observe';
import { testPostgres } from '../support/postgres';
import { startProcessStack, type ProcessStack } from '../support/processes';
import { testCluster } from '../support/temporal-target';
import { destination as defaultDestination } from '../support/orders';

describe('the Temporal cluster (real server on PostgreSQL, four role processes)', function () {
  this.timeout(300_000); // npm run test:cluster builds the server (scripts/temporal-server.ts) before mocha starts
  let cluster: TemporalCluster;

  before(async function () {
    cluster = await testCluster();
  });

  /** Rows from the cluster's own database (the test PostgreSQL, the run's fresh `temporal` database). */
  async function temporalDb<T>(sql: string): Promise<T[]> {
    const client = new pg.Client({ ...(await testPostgres()).endpoint, database: cluster.options.databases.default });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it(`runs the server ${TEMPORAL_SERVER_VERSION} built from the Go module (or the one configured / on PATH)`, async () => {
    const { server } = await requireServerBinaries();
    assert.match(
      execFileSync(server, ['--version']).toString(),
      new RegExp(TEMPORAL_SERVER_VERSION.replace(/^v/, '').replace(/\./g, '\\.')),
    );
  });

  it('has its four roles as four live processes, each on its own gRPC port', async () => {
    const roles = cluster.roles();
    assert.deepEqual(Object.keys(roles).sort(), [...CLUSTER_ROLES].sort());
    const pids = Object.values(roles).map((r) => r.pid);
    assert.equal(new Set(pids).size, 4, `four processes: ${pids}`);
    for (const r of Object.values(roles)) {
      assert.equal(r.exit, undefined, `${r.role} is alive`);
      process.kill(r.pid, 0);
    }
    const ports = CLUSTER_ROLES.map((r) => cluster.options.ports[`${r}Grpc`]);
    assert.equal(new Set(ports).size, 4);
    // A role that gave up under load (the worker role does when its system workflows do not start within 10 s) is
    // started again on the same port, as a container's restart policy would: wait for it rather than catch it mid-way.
    for (const [i, port] of ports.entries())
      await waitFor(
        `${CLUSTER_ROLES[i]} listening on ${port} (restarts: ${JSON.stringify(cluster.roles()[CLUSTER_ROLES[i]].restarts)})`,
        () => isPortInUse(port),
        60_000,
      );
  });

  it("the four roles found each other through PostgreSQL (cluster_membership), and own the configuration's 8 shards", async () => {
    const live = await waitFor('four roles in cluster_membership', async () => {
      const rows = await temporalDb<{ role: number }>(
        "SELECT DISTINCT role FROM cluster_membership WHERE record_expiry > now() AT TIME ZONE 'UTC'",
      );
      return rows.length === 4 ? rows : undefined;
    });
    assert.equal(live.length, 4);
    assert.equal(CLUSTER_HISTORY_SHARDS, 8);
    const shards = await waitFor('every shard acquired', async () => {
      const rows = await temporalDb<{ n: string }>('SELECT count(*) AS n FROM shards');
      return Number(rows[0].n) === CLUSTER_HISTORY_SHARDS ? rows : undefined;
    });
    assert.equal(Number(shards[0].n), 8);
  });

  it("serves the namespace, with the saga's search attributes registered", async () => {
    const stack = await import('@temporalio/client');
    const connection = await stack.Connection.connect({ address: cluster.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: cluster.namespace,
      });
      for (const name of Object.keys(SAGA_SEARCH_ATTRIBUTES)) {
        assert.equal(customAttributes?.[name], temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, name);
      }
      const info = await connection.workflowService.getSystemInfo({});
      assert.ok(info.serverVersion?.startsWith(TEMPORAL_SERVER_VERSION.replace(/^v/, '')), info.serverVersion ?? '');
    } finally {
      await connection.close();
    }
  });

  describe('two worker processes on one task queue', () => {
    let stack: ProcessStack;
    before(async function () {
      this.timeout(180_000);
      stack = await startProcessStack({ serviceGroups: [['orders', 'inventory', 'shipping', 'payments']] });
      const workers = await stack.startWorkers();
      assert.equal(workers.length, 2);
    });
    after(async function () {
      this.timeout(60_000);
      await stack?.stop();
    });

    it('spreads the sagas across both: activities of 12 sagas ran in both processes, every saga APPROVED', async () => {
      const destination = defaultDestination();
      const ids = Array.from({ length: 12 }, (_, i) => `ord-spread-${Date.now().toString(36)}-${i}`);
      await Promise.all(
        ids.map((orderId) =>
          startSaga(stack.client, stack.taskQueue, orderSaga, {
            orderId,
            customerId: 'cust-alice',
            items: [{ sku: 'CB-004', quantity: 1 }],
            destination,
          }),
        ),
      );
      for (const id of ids) await assertSagaEnds(stack.client, id, 'APPROVED');
      const identities = new Set<string>();
      for (const id of ids) {
        const { events } = await stack.client.workflow.getHandle(id).fetchHistory();
        for (const e of events ?? [])
          if (e.activityTaskStartedEventAttributes?.identity)
            identities.add(e.activityTaskStartedEventAttributes.identity);
      }
      const workerPids = new Set([...identities].map((identity) => Number(identity.split('@')[0])));
      assert.equal(workerPids.size, 2, `activities ran in ${[...identities].join(', ')}`);
    });
  });
});
