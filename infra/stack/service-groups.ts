/**
 * The services of a killable stack (killable.ts): one child process per group (infra/processes/services-process.ts),
 * on ports fixed for the stack's life, so a killed group started again comes back on the same URLs and databases.
 * Each port is the kernel's pick at the group's first start (port 0), kept from then on: a port picked up front and
 * bound later can be taken in between (the Temporal server, started alongside, binds free ports of its own).
 */
import path from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '../../services/catalog';
import type { ChildExit } from '../processes/child';
import { startServicesProcess, type ServicesProcess } from '../processes/services-process';

export interface ServiceGroupsOptions {
  /** Which services share a child process; killing one kills its group. */
  groups: ServiceName[][];
  databaseUrls: Record<ServiceName, string>;
  authToken: string;
  faultInjection: boolean;
  /** Serve /metrics: each service on a free port (see metricsUrls). */
  metrics: boolean;
  logLevel: string;
  env?: NodeJS.ProcessEnv;
  /** Where each group's log goes. */
  dir: string;
}

export class ServiceGroups {
  /** Each service's URL, once its group has started. */
  readonly urls = {} as Record<ServiceName, string>;
  /** With `metrics`: every service's GET /metrics (a restarted group's replace the old). */
  readonly metricsUrls: Partial<Record<ServiceName, string>> = {};
  private readonly running = new Map<number, ServicesProcess>();

  /** Each service's port: 0 until its group's first start. */
  private readonly ports = Object.fromEntries(SERVICE_NAMES.map((n) => [n, 0])) as Record<ServiceName, number>;

  /** Starts nothing yet. */
  constructor(private readonly o: ServiceGroupsOptions) {
    const grouped = o.groups.flat();
    if (grouped.length !== SERVICE_NAMES.length || SERVICE_NAMES.some((n) => !grouped.includes(n)))
      throw new Error(`serviceGroups must name each service exactly once, got ${JSON.stringify(o.groups)}`);
  }

  startAll(): Promise<void> {
    return Promise.all(this.o.groups.map((_, i) => this.startGroup(i))).then(() => undefined);
  }

  /** SIGKILLs every group. */
  killAll(): Promise<ChildExit[]> {
    return Promise.all([...this.running.values()].map((s) => s.kill('SIGKILL')));
  }

  processOf(name: ServiceName): ServicesProcess | undefined {
    return this.running.get(this.groupOf(name));
  }

  /** SIGKILLs the process that runs this service (and the others of its group). */
  kill(name: ServiceName): Promise<ChildExit> {
    const child = this.processOf(name);
    if (!child) throw new Error(`no process runs ${name}`);
    return child.kill('SIGKILL');
  }

  /** Starts the service's group again, on the same ports and databases. */
  async start(name: ServiceName): Promise<void> {
    const running = this.processOf(name);
    if (running && !running.exit) throw new Error(`${name} is still running (pid ${running.pid})`);
    await this.startGroup(this.groupOf(name));
  }

  logTails(): string[] {
    return [...this.running.values()].map(
      (c) =>
        `--- ${c.name} (pid ${c.pid}${c.exit ? `, exited ${c.exit.signal ?? c.exit.code}` : ''}) ---\n${c.logTail()}`,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((s) => s.stop(10_000)));
  }

  private groupOf(name: ServiceName): number {
    return this.o.groups.findIndex((g) => g.includes(name));
  }

  private async startGroup(index: number): Promise<void> {
    const names = this.o.groups[index];
    const child = await startServicesProcess(
      {
        services: names.map((name) => ({
          name,
          port: this.ports[name],
          databaseUrl: this.o.databaseUrls[name],
          // 0: the child binds a free port itself and reports it (no window for another process to take it).
          metricsPort: this.o.metrics ? 0 : undefined,
        })),
        authToken: this.o.authToken,
        faultInjection: this.o.faultInjection,
        seed: true,
        logLevel: this.o.logLevel,
      },
      {
        name: this.o.groups.length === 1 ? 'services' : undefined,
        logFile: path.join(this.o.dir, `services-${names.join('-')}.log`),
        env: this.o.env,
        readyTimeoutMs: 120_000,
      },
    );
    this.running.set(index, child);
    for (const name of names) {
      this.urls[name] = child.ready.urls[name]!;
      this.ports[name] = Number(new URL(this.urls[name]).port);
    }
    Object.assign(this.metricsUrls, child.ready.metricsUrls);
  }
}
