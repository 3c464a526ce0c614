import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, type Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { awaitSagaResult, createSagaClient, getSagaState, startSaga } from '../../cli/saga-client';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  parsePayloadKeys,
  payloadDataConverter,
} from '../../runtime/payload-codec';
import type { InProcessStack } from '../../infra/stack';
import { orderSaga } from '../../workflows/order-saga';
import { parseCliJson, runCli, waitFor } from '../support/cli';
import { installQuietRuntime, startTestServices, workflowBundle } from '../support/saga-stack';
import { startTestTemporal, type TestTemporal } from '../support/temporal-target';

/**
 * Payload encryption end to end, on the real dev server with its history in a SQLite file: the worker and the client
 * encrypt with AES-256-GCM (runtime/payload-codec.ts), so the history the server returns and the database it
 * writes hold no recipient, street or amount in clear text, while the CLI, given the keys, shows them. Keys rotate by
 * id: a saga started under the old key runs on a worker whose current key is the new one, and both stay readable to
 * whoever holds both. A control run without encryption shows that the search would find clear text.
 */
const RECIPIENT = 'Zenobia Quartermaine';
const STREET = '42 Wisteria Crescent';
const OLD = `k-old=${randomBytes(32).toString('base64')}`;
const NEW = `k-new=${randomBytes(32).toString('base64')}`;

/** Every payload ({ metadata, data }) anywhere in the history's events, with where it is. */
function payloadsIn(node: unknown, at = '', found: { at: string; payload: temporal.api.common.v1.IPayload }[] = []) {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return found;
  const object = node as Record<string, unknown>;
  if ('data' in object && object.metadata && typeof object.metadata === 'object')
    found.push({ at, payload: object as temporal.api.common.v1.IPayload });
  else for (const [key, value] of Object.entries(object)) payloadsIn(value, `${at}.${key}`, found);
  return found;
}

/**
 * What Temporal keeps in clear by design, none of it business data: search attributes (the server indexes them: the
 * saga's status, patch ids), the SDK's patch markers, and the kit's activity headers (the saga run id, the step name).
 */
const CLEAR_BY_DESIGN = /\.searchAttributes\.|\.patch-data\.|\.header\.fields\.saga-(run|action)$/;

describe('payload encryption: the server holds ciphertext; the CLI and replay decode with the keys', function () {
  this.timeout(180_000);
  let dir: string;
  let server: TestTemporal;
  let stack: InProcessStack;
  let connection: Connection;
  /** Client whose current key is the old one (a client not yet rotated); the worker's current key is the new one. */
  let oldKeyClient: Client;
  let plainClient: Client;
  let env: NodeJS.ProcessEnv;
  const bothKeys = `${NEW},${OLD}`;

  before(async () => {
    installQuietRuntime();
    dir = mkdtempSync(path.join(os.tmpdir(), 'saga-codec-'));
    server = await startTestTemporal({ dbFilename: path.join(dir, 'temporal.db') });
    assert.equal(server.kind, 'dev-server', 'the database check reads the dev server’s SQLite file');
    const workerCodec = new AesGcmPayloadCodec(parsePayloadKeys(bothKeys));
    stack = await startTestServices(server, 'codec', { dataConverter: payloadDataConverter(workerCodec) });
    await stack.startWorker();
    connection = await Connection.connect({ address: server.address });
    oldKeyClient = createSagaClient(
      connection,
      server.namespace,
      payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(OLD))),
    );
    plainClient = createSagaClient(connection, server.namespace);
    env = {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      TEMPORAL_PAYLOAD_KEYS: bothKeys,
    };
    delete env.TEMPORAL_PAYLOAD_KEYS_FILE;
  });
  after(async () => {
    await connection?.close();
    await stack?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const order = (orderId: string) => ({
    orderId,
    customerId: 'cust-alice',
    items: [{ sku: 'KB-001', quantity: 1 }],
    destination: { recipient: RECIPIENT, line1: STREET, city: 'Berlin', postalCode: '10115', country: 'DE' },
  });

  async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
    const response = await connection.workflowService.getWorkflowExecutionHistory({
      namespace: server.namespace,
      execution: { workflowId },
    });
    return response.history?.events ?? [];
  }

  /** The server's SQLite database as bytes (its WAL too: recent writes may be there only). */
  function databaseBytes(): Buffer {
    const file = path.join(dir, 'temporal.db');
    return Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
  }

  let totalCents: number;

  it('a saga started under the old key runs on a worker whose current key is the new one, and is approved', async () => {
    await startSaga(oldKeyClient, stack.taskQueue, orderSaga, order('ord-codec-1'));
    const decoding = createSagaClient(
      connection,
      server.namespace,
      payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(bothKeys))),
    );
    const result = await awaitSagaResult(decoding, 'ord-codec-1');
    assert.ok(result.outcome === 'completed' && result.result.status === 'APPROVED', JSON.stringify(result));
    totalCents = (result.result as { totalCents: number }).totalCents;
    assert.ok(totalCents > 0);
  });

  it('the raw history holds only encrypted payloads, under both key ids, and no recipient, street or amount', async () => {
    const events = await rawHistory('ord-codec-1');
    const found = payloadsIn(events);
    const isClear = ({ payload }: (typeof found)[number]) =>
      Buffer.from(payload.metadata!.encoding ?? []).toString() !== ENCRYPTED_ENCODING;
    assert.deepEqual(
      found
        .filter(isClear)
        .map((c) => c.at)
        .filter((at) => !CLEAR_BY_DESIGN.test(at)),
      [],
      'every input, result, query answer and failure detail is encrypted',
    );
    const payloads = found.filter((f) => !isClear(f)).map((f) => f.payload);
    assert.ok(payloads.length >= 10, `${payloads.length} encrypted payloads`);
    const keyIds = new Set(payloads.map((p) => Buffer.from(p.metadata![KEY_ID_METADATA] ?? []).toString()));
    assert.deepEqual(
      [...keyIds].sort(),
      ['k-new', 'k-old'],
      'the input under the old key, what the worker wrote under the new',
    );
    const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
    for (const needle of [RECIPIENT, STREET, 'Wisteria', `"totalCents":${totalCents}`])
      assert.equal(bytes.indexOf(needle), -1, `${needle} in clear text in the history`);
  });

  it("the server's database holds none of them either", () => {
    const bytes = databaseBytes();
    assert.ok(bytes.indexOf('ord-codec-1') >= 0, 'the saga is in this database (its id is not a payload)');
    for (const needle of [RECIPIENT, STREET, 'Wisteria']) assert.equal(bytes.indexOf(needle), -1, needle);
  });

  it('control: a saga started without encryption puts the recipient in clear text, in the history and the database', async () => {
    await startSaga(plainClient, stack.taskQueue, orderSaga, order('ord-codec-plain'));
    const bytes = Buffer.from(
      temporal.api.history.v1.History.encode({ events: await rawHistory('ord-codec-plain') }).finish(),
    );
    assert.ok(bytes.indexOf(RECIPIENT) >= 0, 'the search finds clear text when there is some');
    // The worker decodes the clear input as it is (a payload written before encryption was turned on).
    const result = await awaitSagaResult(
      createSagaClient(
        connection,
        server.namespace,
        payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(bothKeys))),
      ),
      'ord-codec-plain',
    );
    assert.ok(result.outcome === 'completed' && result.result.status === 'APPROVED', JSON.stringify(result));
    assert.ok(databaseBytes().indexOf(RECIPIENT) >= 0);
  });

  it('the CLI, given the keys (TEMPORAL_PAYLOAD_KEYS), shows the decoded result and status; without them it cannot', async () => {
    const result = await runCli(['--json', 'result', 'ord-codec-1'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(parseCliJson(result).totalCents, totalCents);
    const status = await runCli(['status', 'ord-codec-1'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /COMPLETED/);
    const { TEMPORAL_PAYLOAD_KEYS: _keys, ...withoutKeys } = env;
    const refused = await runCli(['--json', 'result', 'ord-codec-1'], withoutKeys);
    assert.notEqual(refused.code, 0, 'without the keys, the CLI cannot read the result');
    assert.doesNotMatch(refused.stdout, new RegExp(String(totalCents)));
  });

  it('failure messages and stack traces are encrypted too: the raw history holds no rejection text, the CLI shows it', async () => {
    // cust-broke cannot pay: the payments service's refusal names the customer and the amount ("insufficient funds
    // for cust-broke: … cents requested"); the saga hands that text to its compensations as their reason, and the
    // release-inventory compensation is refused (fault injection), so the saga waits for an operator.
    const orderId = 'ord-codec-fail';
    const keyed = createSagaClient(
      connection,
      server.namespace,
      payloadDataConverter(new AesGcmPayloadCodec(parsePayloadKeys(bothKeys))),
    );
    await startSaga(keyed, stack.taskQueue, orderSaga, {
      ...order(orderId),
      customerId: 'cust-broke',
      faults: { 'release-inventory': 'reject' },
    });
    const waiting = await waitFor(
      `${orderId} to wait for an operator`,
      () => getSagaState(keyed, orderId),
      (s) => s.status === 'NEEDS_ATTENTION' && s.compensations.some((c) => c.deadLetter?.id !== undefined),
    );
    const refusal = /insufficient funds for cust-broke: \d+ cents requested/;
    assert.match(JSON.stringify(waiting), refusal, 'the worker decodes the failure: the saga knows why it unwinds');

    const events = await rawHistory(orderId);
    const failures = events.flatMap((e) => (e.activityTaskFailedEventAttributes?.failure ? [e] : []));
    assert.ok(failures.length >= 2, `${failures.length} failed activities (the payment, the release)`);
    for (const event of failures) {
      const failure = event.activityTaskFailedEventAttributes!.failure!;
      // What the server shows: a placeholder, no stack; the text and the stack are one encrypted payload.
      assert.equal(failure.message, 'Encoded failure');
      assert.equal(failure.stackTrace ?? '', '');
      const encoding = Buffer.from(failure.encodedAttributes?.metadata?.encoding ?? []).toString();
      assert.equal(encoding, ENCRYPTED_ENCODING, `event ${String(event.eventId)}: failure attributes encrypted`);
    }
    const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
    for (const needle of ['insufficient funds', 'cust-broke:', 'rejected by fault injection', 'service-client'])
      assert.equal(bytes.indexOf(needle), -1, `${needle} in clear text in the history`);
    for (const needle of ['insufficient funds', 'rejected by fault injection'])
      assert.equal(databaseBytes().indexOf(needle), -1, `${needle} in clear text in the database`);

    // The operator with the keys reads them: the step's failure and the compensation's, decoded.
    const status = await runCli(['status', orderId], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, refusal);
    assert.match(status.stdout, /rejected by fault injection/);
  });

  it('replay decodes with the keys: the recorded history replays with both, fails with the new key alone or none', async () => {
    const history = await oldKeyClient.workflow.getHandle('ord-codec-1').fetchHistory();
    const bundle = await workflowBundle();
    const replay = (keys?: string) =>
      Worker.runReplayHistory(
        {
          workflowBundle: bundle,
          dataConverter: payloadDataConverter(keys ? new AesGcmPayloadCodec(parsePayloadKeys(keys)) : undefined),
        },
        history,
        'ord-codec-1',
      );
    await replay(bothKeys);
    await assert.rejects(replay(NEW));
    await assert.rejects(replay());
    const live = await runCli(['--json', 'replay', '--query', "WorkflowId = 'ord-codec-1'"], env);
    assert.equal(live.code, 0, `${live.stdout}\n${live.stderr}`);
    assert.equal(parseCliJson(live).replayed, 1);
  });
});
