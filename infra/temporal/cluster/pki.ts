/**
 * A local certificate authority for the Temporal cluster's mTLS, scripted with openssl (on every Debian/Ubuntu): one CA,
 * a server certificate for the frontend, and one client certificate per role that talks to it (the saga worker, an
 * operator, a reader), each naming its role as its common name, which the cluster's server maps to what that role may
 * do (server/roles.go; docs/operating.md, "Who may do what"). The CA
 * is made once per folder and kept (certificates it signed stay valid); certificates missing are made from it.
 * Keys are EC P-256 and 0600, in a 0700 folder.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../../files/private';

export interface LocalPki {
  dir: string;
  caCert: string;
  server: { cert: string; key: string };
  clients: Record<string, { cert: string; key: string }>;
}

export interface LocalPkiOptions {
  /** DNS names and IP addresses the frontend's certificate is valid for. Default: localhost, 127.0.0.1. */
  serverNames?: string[];
  /** One client certificate per name (its CN). Default: worker, operator, reader. */
  clients?: string[];
  /** Validity of every certificate, in days. Default 825 (the most browsers accept for a server certificate). */
  days?: number;
}

export const DEFAULT_CLIENT_ROLES = ['worker', 'operator', 'reader'];
/** The certificate Temporal's own worker role presents to the frontend (config.yaml, global.tls.systemWorker). */
export const SYSTEM_CLIENT = 'system';
const ORGANIZATION = 'temporal-saga local CA';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function newKey(file: string, cwd: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], cwd);
  chmodSync(path.join(cwd, file), 0o600);
}

/** Signs `name`.csr with the CA, with the extensions given (one per line, openssl's config syntax). */
function sign(name: string, subject: string, extensions: string[], days: number, cwd: string): void {
  newKey(`${name}.key`, cwd);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  writeFileSync(path.join(cwd, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      String(days),
    ].concat(['-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]),
    cwd,
  );
}

/** A role's client TLS settings, as a worker process takes them (WorkerProcessConfig.tls): the CA, its certificate. */
export function clientTlsOf(pki: LocalPki, role: string) {
  return {
    caPath: pki.caCert,
    certPath: pki.clients[role].cert,
    keyPath: pki.clients[role].key,
    serverName: 'localhost',
  };
}

export function makeLocalPki(dir: string, options: LocalPkiOptions = {}): LocalPki {
  const days = options.days ?? 825;
  const serverNames = options.serverNames ?? ['localhost', '127.0.0.1'];
  const clients = options.clients ?? DEFAULT_CLIENT_ROLES;
  ensurePrivateDir(dir);
  if (!existsSync(path.join(dir, 'ca.crt'))) {
    newKey('ca.key', dir);
    openssl(
      ['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', String(days * 2), '-out', 'ca.crt']
        .concat(['-subj', `/O=${ORGANIZATION}/CN=temporal-saga local CA`])
        .concat(['-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0'])
        .concat(['-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
      dir,
    );
  }
  if (!existsSync(path.join(dir, 'server.crt'))) {
    const san = serverNames.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    sign(
      'server',
      `/O=${ORGANIZATION}/CN=${serverNames[0]}`,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${san}`,
      ],
      days,
      dir,
    );
  }
  for (const client of clients) {
    if (!/^[a-z][a-z0-9-]*$/.test(client)) throw new Error(`client name ${client}: lower-case letters, digits, -`);
    if (existsSync(path.join(dir, `${client}.crt`))) continue;
    sign(
      client,
      `/O=${ORGANIZATION}/CN=${client}`,
      ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'],
      days,
      dir,
    );
  }
  const at = (f: string) => path.join(dir, f);
  return {
    dir,
    caCert: at('ca.crt'),
    server: { cert: at('server.crt'), key: at('server.key') },
    clients: Object.fromEntries(clients.map((c) => [c, { cert: at(`${c}.crt`), key: at(`${c}.key`) }])),
  };
}
