/**
 * A worker child (worker-process.ts) that a fault injector SIGKILLs and starts again, and that is started again after
 * an exit nobody caused (counted): the chaos run's and the explorer's workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartWorkerProcessOptions, WorkerProcess, WorkerProcessConfig } from './worker-process';
import { startWorkerProcess } from './worker-process';

export class RestartingWorker {
  child?: WorkerProcess;
  kills = 0;
  restarts = 0;
  unexpectedExits = 0;
  private expecting = false;
  private stopped = false;
  private restarting?: Promise<void>;

  constructor(
    readonly config: WorkerProcessConfig,
    private readonly restartDelayMs: number,
    private readonly log: (line: string) => void,
    private readonly options: StartWorkerProcessOptions = {},
  ) {}

  async start(): Promise<void> {
    const child = await startWorkerProcess(this.config, { readyTimeoutMs: 120_000, ...this.options });
    this.child = child;
    void child.exited.then(({ code, signal }) => {
      if (this.child !== child || this.expecting || this.stopped) return;
      this.unexpectedExits++;
      this.log(`worker exited on its own (${signal ?? `code ${code}`}); restarting\n${child.logTail()}`);
      this.restarting = sleep(this.restartDelayMs)
        .then(() => this.start())
        .then(() => void this.restarts++);
    });
  }

  /** SIGKILL, pause, start a new one; resolves with the ms from the kill until the new one is ready. */
  async killAndRestart(): Promise<number> {
    await this.restarting;
    this.expecting = true;
    await this.child!.kill('SIGKILL');
    this.expecting = false;
    this.kills++;
    const t0 = performance.now();
    await sleep(this.restartDelayMs);
    if (this.stopped) return 0;
    await this.start();
    this.restarts++;
    return performance.now() - t0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting?.catch(() => undefined);
    await this.child?.stop(10_000);
  }
}
