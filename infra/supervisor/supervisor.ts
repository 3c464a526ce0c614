/**
 * One supervisor for a list of child processes: it starts them in order (each one ready before the next), watches
 * them, reports a child that dies and restarts it per its policy, or, when it cannot (policy, too many restarts, the
 * restart itself fails), stops the whole stack cleanly and says why. Generic: a child is a name, how to start it
 * (which includes its readiness check) and a restart policy; what runs in it is the caller's business.
 *
 * That no child outlives the supervisor is the children's side of the contract: each one watches its parent (the IPC
 * channel of a forked node process closes when the parent dies, even by SIGKILL) and stops what it runs.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running child, as the supervisor needs it. */
export interface SupervisedChild {
  pid: number;
  /** Settles (never rejects) when the process has exited. */
  exited: Promise<ChildExit>;
  /** Stops it cleanly (and for good, if need be by SIGKILL); fine after it died. */
  stop(): Promise<unknown>;
}

export interface RestartPolicy {
  /** 'always': restart a child that died; 'never': a death stops the stack. */
  mode: 'always' | 'never';
  /** At most this many restarts within windowMs; one more stops the stack. Default 5 in 60 s. */
  maxRestarts?: number;
  windowMs?: number;
  /** Wait this long before restarting. Default 500 ms. */
  delayMs?: number;
}

export interface ChildSpec<C extends SupervisedChild = SupervisedChild> {
  name: string;
  /** Starts the child and resolves once it is ready (its readiness check passed). */
  start(): Promise<C>;
  restart: RestartPolicy;
}

export interface SupervisorLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function describeExit(exit: ChildExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * Events: 'died' (name, pid, exit), 'restarted' (name, child), 'stopped' (reason: undefined when asked to stop,
 * else why the stack gave up).
 */
export class Supervisor extends EventEmitter {
  private readonly running = new Map<string, SupervisedChild>();
  private readonly restarts = new Map<string, number[]>();
  private stopping?: Promise<void>;

  constructor(
    private readonly specs: ChildSpec[],
    private readonly log: SupervisorLog,
  ) {
    super();
  }

  /** The running child of that name (a restarted child replaces the one that died). */
  child<C extends SupervisedChild = SupervisedChild>(name: string): C | undefined {
    return this.running.get(name) as C | undefined;
  }

  /** Starts every child in order; if one cannot start, the ones started are stopped and this throws. */
  async start(): Promise<void> {
    for (const spec of this.specs) {
      if (this.stopping) throw new Error('the stack was stopped while starting');
      let child: SupervisedChild;
      try {
        child = await spec.start();
      } catch (err) {
        await this.stop(`${spec.name} did not start`);
        throw err;
      }
      this.adopt(spec, child);
      this.log.info(`${spec.name} ready (pid ${child.pid})`);
    }
  }

  /** Stops the children in reverse order. `reason`: why, if it is not an ordinary stop. Idempotent. */
  stop(reason?: string): Promise<void> {
    return (this.stopping ??= (async () => {
      if (reason) this.log.error(`stopping the stack: ${reason}`);
      for (const spec of [...this.specs].reverse()) {
        const child = this.running.get(spec.name);
        if (!child) continue;
        await child.stop().catch((err: Error) => this.log.warn(`${spec.name}: error while stopping: ${err.message}`));
        this.running.delete(spec.name);
      }
      this.emit('stopped', reason);
    })());
  }

  private adopt(spec: ChildSpec, child: SupervisedChild): void {
    this.running.set(spec.name, child);
    void child.exited.then((exit) => {
      if (this.stopping || this.running.get(spec.name) !== child) return;
      this.running.delete(spec.name);
      this.emit('died', spec.name, child.pid, exit);
      void this.onDeath(spec, child, exit);
    });
  }

  private async onDeath(spec: ChildSpec, child: SupervisedChild, exit: ChildExit): Promise<void> {
    const policy = { maxRestarts: 5, windowMs: 60_000, delayMs: 500, ...spec.restart };
    const what = `${spec.name} (pid ${child.pid}) died (${describeExit(exit)})`;
    if (policy.mode === 'never') return void this.stop(`${what}; its restart policy is "never"`);
    const now = Date.now();
    const recent = (this.restarts.get(spec.name) ?? []).filter((t) => now - t < policy.windowMs);
    if (recent.length >= policy.maxRestarts) {
      return void this.stop(`${what}, its ${recent.length + 1}th death within ${policy.windowMs / 1000} s: giving up`);
    }
    this.restarts.set(spec.name, [...recent, now]);
    this.log.warn(`${what}; restarting it`);
    await sleep(policy.delayMs);
    if (this.stopping) return;
    try {
      const restarted = await spec.start();
      if (this.stopping) {
        await restarted.stop();
        return;
      }
      this.adopt(spec, restarted);
      this.log.info(`${spec.name} restarted (pid ${restarted.pid})`);
      this.emit('restarted', spec.name, restarted);
    } catch (err) {
      void this.stop(`${spec.name} could not be restarted: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}
