import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Connection, isGrpcServiceError, type Client } from '@temporalio/client';
import {
  CLUSTER_ROLES,
  clusterTlsOptions,
  startTemporalCluster,
  type TemporalCluster,
} from '../../infra/temporal/cluster/cluster';
import { DEFAULT_CLIENT_ROLES, makeLocalPki, SYSTEM_CLIENT, type LocalPki } from '../../infra/temporal/cluster/pki';
import type { InProcessStack } from '../../infra/stack';
import { awaitSagaResult, createSagaClient, getSagaState, startSaga } from '../../cli/saga-client';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  parsePayloadKeys,
  payloadDataConverter,
} from '../../runtime/payload-codec';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { orderSaga } from '../../workflows/order-saga';
import { runCli, waitFor } from '../support/cli';
import { destination } from '../support/orders';
import { testPostgres } from '../support/postgres';
import { installQuietRuntime, startTestServices } from '../support/saga-stack';

/**
 * Roles that differ, on the real cluster (the project's server, infra/temporal/cluster/server, with mTLS and the
 * certificate roles of roles.go), with real clients, each holding one certificate of the cluster's CA:
 *   - worker: the application; its worker runs sagas end to end over mTLS with the payload codec, and it starts them;
 *   - reader: lists, describes and queries (the CLI's list and status), and is refused start, cancel, terminate, signal
 *     and the decision update;
 *   - operator: decides a real dead-lettered saga (the CLI's dead-letters retry), which then ends; refused the rest;
 *   - a certificate of the same CA with no role, and no certificate at all: refused.
 * Every refusal is Temporal's PERMISSION_DENIED (gRPC 7) from the server's authorizer, and changes nothing.
 */
const PERMISSION_DENIED = 7;
/** Two quick attempts per round, so a round of failures takes well under a second (as test/cli/dead-letters.test.ts). */
const COMPENSATION_RETRY = { initialInterval: '50ms', maximumInterval: '200ms', maximumAttempts: 2 };
const ITEMS = [{ sku: 'KB-001', quantity: 1 }];
type Role = 'worker' | 'operator' | 'reader' | 'intruder';

/** The gRPC status code of an SDK error, through the SDK's wrappers (ServiceError and friends keep it in `cause`). */
function grpcCodeOf(err: unknown): number | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) if (isGrpcServiceError(e)) return e.code;
  return undefined;
}

async function assertDenied(what: string, call: () => Promise<unknown>): Promise<void> {
  await assert.rejects(call(), (err) => {
    assert.equal(grpcCodeOf(err), PERMISSION_DENIED, `${what}: expected PERMISSION_DENIED, got ${String(err)}`);
    return true;
  });
}

/** One call to the frontend's HTTP API (the same port's TLS, the same authorizer) with a role's certificate. */
function httpApi(pki: LocalPki, port: number, role: string, method: string, urlPath: string, body?: unknown) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        servername: 'localhost',
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.clients[role].cert),
        key: readFileSync(pki.clients[role].key),
        headers: { 'content-type': 'application/json' },
        timeout: 10_000,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('roles on the secured cluster: what a client may do is decided by its certificate', function () {
  this.timeout(600_000);
  let dir: string;
  let pki: LocalPki;
  let cluster: TemporalCluster;
  let stack: InProcessStack;
  const payloadKeys = `k1=${randomBytes(32).toString('base64')}`;
  const dataConverter = payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(payloadKeys)));
  const connections: Connection[] = [];
  const clients = {} as Record<Role, Client>;
  /** The CLI's environment with one role's certificate (what the npm start banner prints, per role). */
  const cliEnv = (role: Role): NodeJS.ProcessEnv => ({
    ...process.env,
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    TEMPORAL_TLS_CA_PATH: pki.caCert,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    TEMPORAL_TLS_CERT_PATH: pki.clients[role].cert,
    TEMPORAL_TLS_KEY_PATH: pki.clients[role].key,
    TEMPORAL_PAYLOAD_KEYS: payloadKeys,
  });
  const start = (client: Client, orderId: string, customerId = 'cust-alice', faults?: Record<string, string>) =>
    startSaga(client, stack.taskQueue, orderSaga, {
      orderId,
      customerId,
      items: ITEMS,
      destination: destination(),
      ...(faults && { faults, options: { compensationRetry: COMPENSATION_RETRY } }),
    });

  before(async () => {
    installQuietRuntime();
    dir = mkdtempSync(path.join(os.tmpdir(), 'saga-roles-cluster-'));
    pki = makeLocalPki(path.join(dir, 'pki'), { clients: [...DEFAULT_CLIENT_ROLES, SYSTEM_CLIENT, 'intruder'] });
    const suffix = randomBytes(4).toString('hex');
    cluster = await startTemporalCluster({
      postgres: (await testPostgres()).endpoint,
      databases: { default: `saga_roles_${suffix}`, visibility: `saga_roles_visibility_${suffix}` },
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      logDir: path.join(dir, 'logs'),
      tls: pki,
    });
    const temporal = {
      address: cluster.address,
      namespace: cluster.namespace,
      logTail: () => cluster.logTail(),
      stop: () => cluster.stop(),
    };
    stack = await startTestServices(temporal, 'roles', { dataConverter, workerTls: clusterTlsOptions(pki, 'worker') });
    await stack.startWorker();
    for (const role of ['worker', 'operator', 'reader', 'intruder'] as const) {
      const connection = await Connection.connect({ address: cluster.address, tls: clusterTlsOptions(pki, role) });
      connections.push(connection);
      clients[role] = createSagaClient(connection, cluster.namespace, dataConverter);
    }
  });
  after(async () => {
    await Promise.all(connections.map((c) => c.close()));
    if (stack) await stack.stop();
    else await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A saga rejected at the pivot whose release-inventory compensation fails its first round: it waits for an operator. */
  async function parkOnDeadLetter(orderId: string): Promise<void> {
    await start(clients.worker, orderId, 'cust-broke', { 'release-inventory': 'transient:3' });
    await waitFor(
      `${orderId} to wait for an operator`,
      () => getSagaState(clients.reader, orderId),
      (s) => s.status === 'NEEDS_ATTENTION' && s.compensations.some((c) => c.deadLetter?.id !== undefined),
      60_000,
    );
  }

  it('the worker starts a saga and runs it end to end over mTLS; the server holds only encrypted payloads', async () => {
    const orderId = `ord-roles-ok-${randomBytes(3).toString('hex')}`;
    await start(clients.worker, orderId);
    const result = await awaitSagaResult(clients.worker, orderId);
    assert.equal(result.outcome, 'completed', JSON.stringify(result));
    assert.equal((result as { result: { status: string } }).result.status, 'APPROVED');
    // The history as the server keeps it (fetchHistory does not decode): the input is the codec's ciphertext.
    const history = await clients.reader.workflow.getHandle(orderId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING);
  });

  it('the reader lists, describes and queries (CLI list and status); start, cancel, terminate, signal and decide are refused', async () => {
    const orderId = `ord-roles-read-${randomBytes(3).toString('hex')}`;
    await parkOnDeadLetter(orderId);
    const status = await runCli(['status', orderId], cliEnv('reader'));
    assert.equal(status.code, 0, `${status.stdout}\n${status.stderr}`);
    assert.match(status.stdout, /NEEDS_ATTENTION/);
    const list = await waitFor(
      'the reader to list the saga',
      () => runCli(['list'], cliEnv('reader')),
      (r) => r.code === 0 && r.stdout.includes(orderId),
      60_000,
    );
    assert.equal(list.code, 0, list.stderr);
    const handle = clients.reader.workflow.getHandle(orderId);
    assert.equal((await handle.describe()).status.name, 'RUNNING');

    await assertDenied('reader start', () => start(clients.reader, `ord-roles-r-${randomBytes(3).toString('hex')}`));
    await assertDenied('reader cancel', () => handle.cancel());
    await assertDenied('reader terminate', () => handle.terminate('not allowed'));
    await assertDenied('reader signal', () => handle.signal('anything'));
    await assertDenied('reader decide', () => handle.executeUpdate('retryCompensation', { args: [{}] }));
    // The CLI says so, naming the certificate, with its own exit code (77, EX_NOPERM), not a crash.
    const refused = await runCli(
      [
        'start',
        '--customer',
        'cust-alice',
        '--item',
        'KB-001:1',
        '--ship-to',
        'Ada Lovelace|1 Main Street|Berlin|10115|DE',
      ],
      cliEnv('reader'),
    );
    assert.equal(refused.code, 77, `${refused.stdout}\n${refused.stderr}`);
    assert.match(refused.stderr, /permission denied: .*reader\.crt \(CN reader\)/);
    // Nothing of it happened: the saga still waits for its operator.
    assert.equal((await getSagaState(clients.reader, orderId)).status, 'NEEDS_ATTENTION');
  });

  it('the operator decides a dead-lettered saga (CLI dead-letters retry) and it ends; it cannot start, cancel, terminate, signal or send another update', async () => {
    const orderId = `ord-roles-op-${randomBytes(3).toString('hex')}`;
    await parkOnDeadLetter(orderId);
    const handle = clients.operator.workflow.getHandle(orderId);
    await assertDenied('operator start', () =>
      start(clients.operator, `ord-roles-o-${randomBytes(3).toString('hex')}`),
    );
    await assertDenied('operator cancel', () => handle.cancel());
    await assertDenied('operator terminate', () => handle.terminate('not allowed'));
    await assertDenied('operator signal', () => handle.signal('anything'));
    // The authorizer reads the update's name: only the kit's two decisions pass.
    await assertDenied('operator, another update', () => handle.executeUpdate('notADecision', { args: [{}] }));
    // Decisions are the operator's alone: not the application's.
    await assertDenied('worker decide', () =>
      clients.worker.workflow.getHandle(orderId).executeUpdate('retryCompensation', { args: [{}] }),
    );
    assert.equal((await getSagaState(clients.reader, orderId)).status, 'NEEDS_ATTENTION');

    const retried = await runCli(['dead-letters', 'retry', orderId, '--wait'], cliEnv('operator'));
    assert.equal(retried.code, 0, `${retried.stdout}\n${retried.stderr}`);
    assert.match(retried.stdout, /REJECTED/);
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
    assert.equal((await getSagaState(clients.reader, orderId)).status, 'COMPENSATED');
  });

  it("the frontend's HTTP API applies the same roles: the reader lists, but may not start", async () => {
    const port = cluster.options.ports.frontendHttp;
    const workflows = `/api/v1/namespaces/${cluster.namespace}/workflows`;
    const listed = await httpApi(pki, port, 'reader', 'GET', workflows);
    assert.equal(listed.status, 200, listed.text);
    const orderId = `ord-roles-http-${randomBytes(3).toString('hex')}`;
    const started = await httpApi(pki, port, 'reader', 'POST', `${workflows}/${orderId}`, {
      workflowType: { name: 'orderSaga' },
      taskQueue: { name: stack.taskQueue },
    });
    assert.equal(started.status, 403, started.text);
    assert.match(started.text, /Request unauthorized/);
  });

  it("the server's own traffic is not refused: no role's log reports a permission denied", async () => {
    // The worker role calls the frontend with the system certificate (config.yaml, systemWorker); were it refused,
    // its system workflows would fail and it would say so in its log.
    for (const role of CLUSTER_ROLES) {
      const log = readFileSync(path.join(dir, 'logs', `${role}.log`), 'utf8');
      assert.doesNotMatch(log, /PermissionDenied|Request unauthorized|permission denied/i, `${role}.log`);
    }
  });

  it('a certificate of the same CA with no role gets the health check only; no certificate is refused outright', async () => {
    const connection = connections[3];
    await connection.workflowService.getSystemInfo({});
    await assertDenied('intruder describe namespace', () =>
      connection.workflowService.describeNamespace({ namespace: cluster.namespace }),
    );
    await assertDenied('intruder list', () => clients.intruder.workflow.list()[Symbol.asyncIterator]().next());
    await assertDenied('intruder start', () =>
      start(clients.intruder, `ord-roles-i-${randomBytes(3).toString('hex')}`),
    );
    await assert.rejects(
      Connection.connect({ address: cluster.address, connectTimeout: 5_000 }).then((c) =>
        c.workflowService.describeNamespace({ namespace: cluster.namespace }).finally(() => c.close()),
      ),
    );
  });
});
