import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { makeLocalPki, type LocalPki } from '../../infra/temporal/cluster/pki';

/**
 * The scripted local CA for the cluster's mTLS (infra/temporal/cluster/pki.ts), checked with openssl and on a real TLS
 * server that requires client certificates, as the frontend will: a client with a certificate of this CA gets in, one
 * without a certificate (or with one from another CA) does not, and the server learns the client's role from it.
 */
describe('deploy: the local CA for mTLS (openssl)', function () {
  this.timeout(60_000);
  let parent: string;
  let pki: LocalPki;
  let server: tls.Server;
  let port: number;
  const seen: string[] = [];

  before(async () => {
    parent = mkdtempSync(path.join(os.tmpdir(), 'saga-pki-'));
    pki = makeLocalPki(path.join(parent, 'pki'));
    server = tls.createServer(
      {
        cert: readFileSync(pki.server.cert),
        key: readFileSync(pki.server.key),
        ca: readFileSync(pki.caCert),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        seen.push(String(socket.getPeerCertificate().subject?.CN));
        socket.end('hello\n');
      },
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server?.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it('a CA, a server certificate for localhost and 127.0.0.1, and one client certificate per role, all verified by openssl', () => {
    const verify = execFileSync(
      'openssl',
      ['verify', '-CAfile', pki.caCert, pki.server.cert, ...Object.values(pki.clients).map((c) => c.cert)],
      { encoding: 'utf8' },
    );
    assert.equal(verify.match(/: OK$/gm)?.length, 4, verify);
    const server = new X509Certificate(readFileSync(pki.server.cert));
    assert.match(server.subjectAltName ?? '', /DNS:localhost/);
    assert.match(server.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(server.ca, false);
    assert.ok(new X509Certificate(readFileSync(pki.caCert)).ca);
    assert.deepEqual(Object.keys(pki.clients), ['worker', 'operator', 'reader']);
    for (const [role, { cert }] of Object.entries(pki.clients))
      assert.match(new X509Certificate(readFileSync(cert)).subject, new RegExp(`CN=${role}$`, 'm'));
  });

  it('keys are 0600 in a 0700 folder; a second run keeps the CA and the certificates', () => {
    assert.equal(statSync(pki.dir).mode & 0o777, 0o700);
    for (const key of [path.join(pki.dir, 'ca.key'), pki.server.key, ...Object.values(pki.clients).map((c) => c.key)])
      assert.equal(statSync(key).mode & 0o777, 0o600, key);
    const before = readFileSync(pki.caCert, 'utf8');
    const again = makeLocalPki(pki.dir);
    assert.equal(readFileSync(again.caCert, 'utf8'), before);
  });

  it('on a TLS server requiring client certificates: each role gets in and is known by its certificate; no certificate, or another CA’s, is refused', async () => {
    const connect = (options: tls.ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ca: readFileSync(pki.caCert),
          ...options,
        });
        let data = '';
        socket.on('data', (d) => (data += d));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
    for (const [role, { cert, key }] of Object.entries(pki.clients)) {
      assert.equal(await connect({ cert: readFileSync(cert), key: readFileSync(key) }), 'hello\n', role);
      assert.equal(seen.at(-1), role);
    }
    // With TLS 1.3 the client may finish its handshake before the server refuses it: refused means no answer.
    const answer = (options: tls.ConnectionOptions) =>
      connect(options).catch((err: Error) => `refused: ${err.message}`);
    const served = seen.length;
    assert.notEqual(await answer({}), 'hello\n', 'no client certificate');
    const stranger = makeLocalPki(path.join(parent, 'other'), { clients: ['worker'] });
    const strangerWorker = stranger.clients.worker;
    assert.notEqual(
      await answer({ cert: readFileSync(strangerWorker.cert), key: readFileSync(strangerWorker.key) }),
      'hello\n',
      "another CA's certificate",
    );
    assert.equal(seen.length, served, 'the server never served them');
  });
});
