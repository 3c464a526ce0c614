import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { awaitSagaResult, createSagaClient, startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import { getFreePort, isPortInUse } from '../../infra/ports';
import { isAlive } from '../../infra/processes/orphans';
import { SERVICE_NAMES, serviceEnvName } from '../../services/catalog';

/**
 * `npm start` as a user runs it: the supervisor and its children (PostgreSQL, the Temporal server, the services, the
 * worker) are real processes, killed for real. Proven: a worker killed alone is reported and restarted and its sagas
 * finish; the services killed come back on the ports the kernel picked for them at their first start; a supervisor
 * killed by SIGKILL leaves no process of the stack and every port free; a restart after a harsher crash (an orphan
 * PostgreSQL still holding its port, a stale postmaster.pid naming a stranger) cleans up by itself.
 */
const REPO = path.resolve(__dirname, '../..');

interface NpmStart {
  child: ChildProcess;
  pids: Record<string, number>;
  /** Each service's URL, as npm start printed it. */
  serviceUrls: Record<string, string>;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr together (the supervisor logs on stdout, the children on stderr). */
  output(): string;
  /** Resolves with the output that matches, or fails after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Every process whose ancestry leads to pid (from /proc), pid included. */
function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of parent)
      if (tree.includes(pp) && !tree.includes(p)) {
        tree.push(p);
        grew = true;
      }
  }
  return tree;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('npm start: supervised processes (real PostgreSQL, Temporal server, services and worker)', function () {
  this.timeout(300_000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saga-supervised-'));
  fs.chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
  let env: NodeJS.ProcessEnv;
  let ports: number[];
  const runs: NpmStart[] = [];

  function npmStart(): Promise<NpmStart> {
    const child = spawn('npm', ['start'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const run: NpmStart = {
      child,
      pids: {},
      serviceUrls: {},
      stdout: () => out,
      stderr: () => err,
      output: () => `${out}\n${err}`,
      exited,
      async waitFor(pattern, timeoutMs = 180_000) {
        let match: RegExpMatchArray | null = null;
        let ended = false;
        void exited.then(() => (ended = true));
        await waitUntil(
          `${pattern} in npm start's output\n--- stdout ---\n${out}\n--- stderr ---\n${err.slice(-4000)}`,
          () => !!(match = `${out}\n${err}`.match(pattern)) || ended,
          timeoutMs,
        );
        if (!match)
          assert.fail(
            `npm start exited before ${pattern}\n--- stdout ---\n${out}\n--- stderr ---\n${err.slice(-4000)}`,
          );
        return match;
      },
    };
    runs.push(run);
    return (async () => {
      const [, list] = await run.waitFor(/^ {2}Processes: +(.+)$/m);
      run.pids = Object.fromEntries(
        list
          .split(', ')
          .map((entry) => [entry.slice(0, entry.lastIndexOf(' ')), Number(entry.slice(entry.lastIndexOf(' ') + 1))]),
      );
      for (const name of [
        'supervisor',
        'postgres',
        'postgres server',
        'temporal',
        'temporal server',
        'services',
        'worker',
      ]) {
        assert.ok(run.pids[name] > 0, `${name}'s pid is listed: ${list}`);
      }
      for (const name of SERVICE_NAMES) {
        const [, url] = await run.waitFor(new RegExp(`^ {2}${name} +(http://\\S+)$`, 'm'));
        run.serviceUrls[name] = url;
      }
      return run;
    })();
  }

  /** The stack's fixed ports, and the services' ports of each run (the kernel's picks: *_PORT=0). */
  async function assertPortsFree(): Promise<void> {
    const servicePorts = runs.flatMap((run) => Object.values(run.serviceUrls).map((url) => Number(new URL(url).port)));
    for (const port of [...ports, ...servicePorts])
      assert.equal(await isPortInUse(port), false, `port ${port} is free`);
  }

  before(async () => {
    ports = await Promise.all(Array.from({ length: 3 }, () => getFreePort()));
    const [postgresPort, temporalPort, uiPort] = ports;
    env = {
      ...process.env,
      DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(postgresPort),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      FAULT_INJECTION: 'true', // off by default under npm start; the sagas below delay a step with it
      // Port 0: the kernel picks, the stack keeps the port across a restart of the services (proven below).
      ...Object.fromEntries(SERVICE_NAMES.map((n) => [serviceEnvName(n, 'PORT'), '0'])),
    };
  });

  after(async () => {
    // Whatever a failed test left: the whole tree, then the data.
    for (const run of runs) {
      if (run.pids.supervisor && isAlive(run.pids.supervisor))
        for (const pid of processTree(run.pids.supervisor)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL of the worker alone: reported and restarted, and its sagas finish; of the services: back on the same ports; SIGKILL of the supervisor: no process of the stack left, every port free', async () => {
    const stack = await npmStart();
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    try {
      const client = createSagaClient(connection, 'default');
      const orders = ['sup-1', 'sup-2', 'sup-3'];
      const order = (orderId: string) => ({
        orderId,
        customerId: 'cust-alice',
        items: [{ sku: 'KB-001', quantity: 1 }],
        destination: {
          recipient: 'Ada Lovelace',
          line1: '1 Main Street',
          city: 'Berlin',
          postalCode: '10115',
          country: 'DE',
        },
      });
      for (const orderId of orders) {
        await startSaga(client, 'order-saga', orderSaga, {
          ...order(orderId),
          faults: { 'schedule-shipment': 'delay:2000' },
          options: { stepTimeout: '5s' },
        });
      }
      await sleep(1_000); // the sagas are in schedule-shipment, on this worker
      const worker = stack.pids.worker;
      process.kill(worker, 'SIGKILL');
      await stack.waitFor(new RegExp(`worker \\(pid ${worker}\\) died \\(killed by SIGKILL\\); restarting it`), 30_000);
      const [, restarted] = await stack.waitFor(/worker restarted \(pid (\d+)\)/, 60_000);
      assert.notEqual(Number(restarted), worker);
      assert.ok(isAlive(Number(restarted)), 'the new worker runs');
      for (const orderId of orders) {
        const result = await awaitSagaResult(client, orderId);
        assert.equal(
          result.outcome === 'completed' && result.result.status,
          'APPROVED',
          `${orderId}: ${JSON.stringify(result)}`,
        );
      }

      // The services killed: back on the same URLs (ports the kernel picked at their first start), which the worker
      // was given once: a new saga through all four is approved.
      const services = stack.pids.services;
      process.kill(services, 'SIGKILL');
      await stack.waitFor(
        new RegExp(`services \\(pid ${services}\\) died \\(killed by SIGKILL\\); restarting it`),
        30_000,
      );
      const [, servicesAgain] = await stack.waitFor(/services restarted \(pid (\d+)\)/, 60_000);
      stack.pids.services = Number(servicesAgain);
      for (const url of Object.values(stack.serviceUrls))
        assert.equal((await fetch(`${url}/health`)).status, 200, `${url}/health after the restart`);
      await startSaga(client, 'order-saga', orderSaga, order('sup-4'));
      const after = await awaitSagaResult(client, 'sup-4');
      assert.equal(after.outcome === 'completed' && after.result.status, 'APPROVED', JSON.stringify(after));
    } finally {
      await connection.close();
    }

    const tree = processTree(stack.pids.supervisor);
    for (const name of ['postgres server', 'temporal server', 'services', 'postgres', 'temporal'])
      assert.ok(tree.includes(stack.pids[name]), `${name} is in the supervisor's tree`);
    process.kill(stack.pids.supervisor, 'SIGKILL');
    await waitUntil('every process of the stack to be gone', () => tree.every((pid) => !isAlive(pid)), 30_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}: still alive ${tree.filter(isAlive).join(', ')}`);
      },
    );
    await assertPortsFree();
    await stack.exited;
  });

  it('a restart after a crash cleans up what the crash left: an orphan PostgreSQL holding its port, a stale postmaster.pid', async () => {
    // A harsher crash: the supervisor and PostgreSQL's keeper die at once, so nothing stops the postmaster.
    const first = await npmStart();
    const orphan = first.pids['postgres server'];
    process.kill(first.pids.postgres, 'SIGKILL');
    process.kill(first.pids.supervisor, 'SIGKILL');
    await first.exited;
    await sleep(2_000);
    assert.ok(isAlive(orphan), 'the postmaster outlived its keeper: an orphan, holding its port');
    assert.equal(await isPortInUse(ports[0]), true);

    const second = await npmStart();
    assert.match(
      second.output(),
      new RegExp(`stopped PostgreSQL \\(pid ${orphan}\\) on .*left running by a previous run that crashed`),
    );
    assert.equal(isAlive(orphan), false, 'the orphan was stopped');
    assert.notEqual(second.pids['postgres server'], orphan);
    process.kill(second.pids.supervisor, 'SIGTERM');
    assert.equal(await second.exited, 0, 'a clean stop on SIGTERM');

    // A stale lock file naming a live process that is not PostgreSQL (a reused pid): PostgreSQL would refuse to start.
    const postmasterPid = path.join(dataDir, 'postgres', 'postmaster.pid');
    fs.writeFileSync(postmasterPid, `${process.pid}\n${path.join(dataDir, 'postgres')}\n`);
    const third = await npmStart();
    assert.match(
      third.output(),
      new RegExp(`removed a stale .*postmaster\\.pid \\(pid ${process.pid} is not a PostgreSQL on it\\)`),
    );
    const tree = processTree(third.pids.supervisor);
    process.kill(third.pids.supervisor, 'SIGTERM');
    assert.equal(await third.exited, 0);
    await waitUntil('every process of the stack to be gone', () => tree.every((pid) => !isAlive(pid)), 30_000);
    await assertPortsFree();
  });
});
