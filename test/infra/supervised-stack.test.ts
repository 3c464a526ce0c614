import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { awaitSagaResult, createSagaClient, startSaga } from '../../cli/saga-client';
import { orderSaga } from '../../workflows/order-saga';
import { getFreePort, isPortInUse } from '../../runtime/ports';
import { isAlive, writePidFile } from '../../infra/processes/orphans';
import { metricValue, parsePrometheusText } from '../support/prometheus-text';
import { SERVICE_NAMES, serviceEnvName } from '../../services/catalog';
import { destination as defaultDestination } from '../support/orders';

/**
 * `npm start` as a user runs it: the supervisor and its children (PostgreSQL, the Temporal server, the services, the
 * worker) are real processes, killed for real. Proven: a worker killed alone is reported and restarted and its sagas
 * finish; the services killed come back on the ports the kernel picked for them at their first start; a supervisor
 * killed by SIGKILL leaves no process of the stack and every port free; a restart after a harsher crash (an orphan
 * PostgreSQL still holding its port, a stale postmaster.pid naming a stranger) cleans up by itself.
 */
const REPO = path.resolve(__dirname, '../..');

const order = (orderId: string) => ({
  orderId,
  customerId: 'cust-alice',
  items: [{ sku: 'KB-001', quantity: 1 }],
  destination: defaultDestination(),
});

/** Starts a saga on the stack's Temporal server and returns its status once it ended. */
async function runSaga(temporalAddress: string, orderId: string): Promise<string | false> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = createSagaClient(connection, 'default');
    await startSaga(client, 'order-saga', orderSaga, order(orderId));
    const result = await awaitSagaResult(client, orderId);
    return result.outcome === 'completed' && result.result.status;
  } finally {
    await connection.close();
  }
}

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
  /** Processes a test started besides the stacks, and process groups (negative pid) to stop. */
  const extraProcesses: ChildProcess[] = [];
  const extraGroups: number[] = [];

  /** `npm start` launched, not waited for (see npmStart). */
  function launch(extraEnv: NodeJS.ProcessEnv = {}): NpmStart {
    const child = spawn('npm', ['start'], {
      cwd: REPO,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
    return run;
  }

  /** Waits until the launched stack is up, and reads its pids and service URLs from what it printed. */
  async function up(run: NpmStart, timeoutMs?: number): Promise<NpmStart> {
    const [, list] = await run.waitFor(/^ {2}Processes: +(.+)$/m, timeoutMs);
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
  }

  function npmStart(extraEnv: NodeJS.ProcessEnv = {}): Promise<NpmStart> {
    return up(launch(extraEnv));
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
      const root = run.pids.supervisor ?? run.child.pid;
      if (root && isAlive(root)) for (const pid of processTree(root)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    for (const child of extraProcesses) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const group of extraGroups) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL of the worker alone: reported and restarted, and its sagas finish; of the services: back on the same ports; SIGKILL of the supervisor: no process of the stack left, every port free', async () => {
    const stack = await npmStart();
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    try {
      const client = createSagaClient(connection, 'default');
      const orders = ['sup-1', 'sup-2', 'sup-3'];
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
    assert.match(
      second.output(),
      new RegExp(
        `took over the lock of a previous \`npm start\` \\(pid ${first.pids.supervisor}\\) that is no longer running`,
      ),
      'the lock the killed supervisor left is taken over',
    );
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

  it('two `npm start` at once on one data directory: one runs, the other is refused at once naming it and removes nothing; a third start is refused too, and the running stack keeps working', async () => {
    // A crash left a worker that ignores SIGTERM (as one finishing its tasks would): whichever start clears it waits
    // out the grace period before its SIGKILL, so both starts are well inside their start-up at the same time.
    const leftover = spawn('sh', ['-c', 'trap "" TERM; exec sleep 120'], { stdio: 'ignore' });
    extraProcesses.push(leftover);
    await sleep(200); // the trap is set
    writePidFile(path.join(dataDir, 'run', 'worker.pid'), leftover.pid!, "the stack's worker process");

    const a = launch();
    const b = launch();
    let firstExit: NpmStart | undefined;
    void a.exited.then(() => (firstExit ??= a));
    void b.exited.then(() => (firstExit ??= b));
    await waitUntil(
      `one of the two starts to exit\n--- first ---\n${a.output()}\n--- second ---\n${b.output()}`,
      () => !!firstExit,
      60_000,
    );
    const [loser, winner] = firstExit === a ? [a, b] : [b, a];
    assert.notEqual(await loser.exited, 0, `the refused start exits non-zero:\n${loser.output()}`);
    const loserOutput = loser.output();
    await up(winner, 150_000).catch((err: Error) => {
      throw new Error(`${err.message}\n--- the start that exited first ---\n${loserOutput}`);
    });

    // Everything the running stack wrote is still there, and a third start is refused just the same.
    const runFiles = () =>
      fs
        .readdirSync(dataDir)
        .concat(fs.readdirSync(path.join(dataDir, 'run')).map((f) => `run/${f}`))
        .sort();
    const filesBefore = runFiles();
    const third = launch();
    // Refused, it exits within seconds; not refused, it would go on to start a stack of its own.
    let thirdExit: number | null | undefined;
    void third.exited.then((code) => (thirdExit = code));
    await waitUntil('the third start to exit', () => thirdExit !== undefined, 60_000).catch(() => undefined);
    assert.ok(thirdExit !== undefined && thirdExit !== 0, `the third start is refused:\n${third.output()}`);
    assert.deepEqual(
      runFiles(),
      filesBefore,
      `the refused starts removed nothing of the running stack's\n--- the first refused ---\n${loserOutput}\n--- the third ---\n${third.output()}`,
    );
    for (const [name, pid] of Object.entries(winner.pids)) assert.ok(isAlive(pid), `${name} (pid ${pid}) still runs`);
    for (const url of Object.values(winner.serviceUrls))
      assert.equal((await fetch(`${url}/health`)).status, 200, `${url}/health`);
    assert.equal(await runSaga(env.TEMPORAL_ADDRESS!, 'sup-lock-1'), 'APPROVED');

    // Each refusal names the running stack: its supervisor's pid and its Temporal server.
    for (const refused of [loserOutput, third.output()]) {
      assert.match(
        refused,
        new RegExp(`another \`npm start\` \\(pid ${winner.pids.supervisor}\\b[^\\n]*${env.TEMPORAL_ADDRESS}`),
        refused,
      );
    }
    assert.equal(isAlive(leftover.pid!), false, 'the leftover worker was stopped by the start that runs');

    process.kill(winner.pids.supervisor, 'SIGTERM');
    assert.equal(await winner.exited, 0, 'a clean stop on SIGTERM');
    assert.equal(fs.existsSync(path.join(dataDir, 'stack.lock')), false, 'the lock is released on exit');
  });

  it('a second worker on the same host, as the README says (`SERVICE_AUTH_TOKEN=… npx tsx worker.ts`): it runs, its metrics on a free port it names, and executes sagas', async () => {
    const authToken = 'a-token-shared-with-the-extra-worker';
    const stack = await npmStart({ SERVICE_AUTH_TOKEN: authToken });
    const worker = spawn('npx', ['tsx', 'worker.ts'], {
      cwd: REPO,
      env: {
        ...env,
        SERVICE_AUTH_TOKEN: authToken,
        LOG_FORMAT: 'json',
        ...Object.fromEntries(SERVICE_NAMES.map((n) => [`${n.toUpperCase()}_URL`, stack.serviceUrls[n]])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: npx -> tsx -> node, stopped together
    });
    extraGroups.push(worker.pid!);
    let output = '';
    worker.stdout!.on('data', (d) => (output += d));
    worker.stderr!.on('data', (d) => (output += d));
    let workerExit: number | null | undefined;
    worker.once('exit', (code) => (workerExit = code));
    await waitUntil(
      `"worker started" from the second worker\n${output}`,
      () => /worker started/.test(output) || workerExit !== undefined,
      120_000,
    );
    assert.equal(workerExit, undefined, `the second worker runs:\n${output}`);
    const started = output
      .split('\n')
      .map((line) => (line.startsWith('{') ? JSON.parse(line) : {}))
      .find((l) => l.msg === 'worker started') as { metrics: string };
    assert.match(started.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/, 'it says where its metrics are');
    assert.notEqual(new URL(started.metrics).port, '9464', "not on the stack's worker's port");
    assert.match(output, /9464 is in use/, 'it says why it took another port');

    // With the stack's worker killed (its restart takes seconds), a saga runs on the second worker: its metrics count
    // the activities it executed.
    process.kill(stack.pids.worker, 'SIGKILL');
    assert.equal(await runSaga(env.TEMPORAL_ADDRESS!, 'sup-extra-worker-1'), 'APPROVED');
    const samples = parsePrometheusText(await (await fetch(started.metrics)).text());
    assert.ok(
      metricValue(samples, 'temporal_activity_execution_latency_count') > 0,
      "the second worker executed the saga's activities",
    );

    // WORKER_METRICS_ADDRESS set to a taken port is what someone's Prometheus scrapes: refused, naming the variable.
    const explicit = spawn('npx', ['tsx', 'worker.ts'], {
      cwd: REPO,
      env: { ...env, SERVICE_AUTH_TOKEN: authToken, WORKER_METRICS_ADDRESS: started.metrics.split('/')[2] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let explicitOutput = '';
    explicit.stdout!.on('data', (d) => (explicitOutput += d));
    explicit.stderr!.on('data', (d) => (explicitOutput += d));
    const explicitExit = await new Promise<number | null>((resolve) => explicit.once('exit', resolve));
    assert.equal(explicitExit, 1, explicitOutput);
    assert.match(
      explicitOutput,
      new RegExp(`WORKER_METRICS_ADDRESS ${started.metrics.split('/')[2]} is already in use`),
      explicitOutput,
    );

    process.kill(-worker.pid!, 'SIGTERM');
    process.kill(stack.pids.supervisor, 'SIGTERM');
    assert.equal(await stack.exited, 0, 'a clean stop on SIGTERM');
  });
});
