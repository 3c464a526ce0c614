import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import {
  ConfigError,
  describeTemporalConfig,
  loadTemporalConfig,
  temporalConnectionOptions,
  type TemporalConnectionOptions,
} from '../../runtime/config';

/**
 * Connecting to a Temporal cluster beyond one machine: TLS, mTLS and API keys from TEMPORAL_* variables
 * (runtime/config.ts), checked as configuration and then on the wire, against a local TLS server on loopback that
 * records what each SDK (the worker's NativeConnection, the client's Connection) presents.
 *
 * Test-only PKI, made for these tests and trusted nowhere else: a CA, a server certificate for `temporal.test` and a
 * client certificate, both signed by the CA, valid 2000-2100.
 */
const PEM = {
  ca: `-----BEGIN CERTIFICATE-----
MIIBYTCCAQigAwIBAgICEAAwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMc2FnYSB0
ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAwWjAXMRUwEwYD
VQQDDAxzYWdhIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATIomg/
deswgRWW6PA5FtKcv5ibKBN00cMC0EM3I8mfm6fnGJ80BzwjdbbkBBO+HgHozIrg
qTOH0Va9weXCX9/Po0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIB
BjAdBgNVHQ4EFgQU2vV7R8agNOIdgISwmtVrGu5alWYwCgYIKoZIzj0EAwIDRwAw
RAIgF0ZYGRwb1VV+u6i2t0TwAjCSacjbnxk9H5NIks3/LV0CIDvwoxyAv3gQR/3X
TV4Tqu3fSIXws2hM/hAcpKGbb45L
-----END CERTIFICATE-----
`,
  serverCrt: `-----BEGIN CERTIFICATE-----
MIIBtDCCAVugAwIBAgICEAEwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMc2FnYSB0
ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAwWjAbMRkwFwYD
VQQDDBBzYWdhIHRlc3Qgc2VydmVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
7GU2+S5LcZLuFYkX1pg6SnqbVGnyLsm0MsiauCWK2u8imBPBvg8c1ztfxWQqV39Q
EqfC0yrO2MQJt8ZMB/ULgqOBkDCBjTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQE
AwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAYBgNVHREEETAPgg10ZW1wb3JhbC50
ZXN0MB0GA1UdDgQWBBRKeChfSmuKyrIxhonXeEqHlxRjCjAfBgNVHSMEGDAWgBTa
9XtHxqA04h2AhLCa1Wsa7lqVZjAKBggqhkjOPQQDAgNHADBEAiBzx5fpqpKL8qc9
Kd6sLRAXt0OGL4+O6hI09vBowCobUwIgcmrmesoKj2sGpytVWyWM6ASc5skLiCWN
dfoSYWkVsgM=
-----END CERTIFICATE-----
`,
  serverKey: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFKGRJcMtq1AGWwJo
us8OJO5H/BL5GYrhAQu0pjkHHe2hRANCAATsZTb5Lktxku4ViRfWmDpKeptUafIu
ybQyyJq4JYra7yKYE8G+DxzXO1/FZCpXf1ASp8LTKs7YxAm3xkwH9QuC
-----END PRIVATE KEY-----
`,
  clientCrt: `-----BEGIN CERTIFICATE-----
MIIBmDCCAT+gAwIBAgICEAIwCgYIKoZIzj0EAwIwFzEVMBMGA1UEAwwMc2FnYSB0
ZXN0IENBMCAXDTAwMDEwMTAwMDAwMFoYDzIxMDAwMTAxMDAwMDAwWjAbMRkwFwYD
VQQDDBBzYWdhIHRlc3QgY2xpZW50MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
3P+rYwxs+Alp7y1VYCJT7YVYYZLAqjGN4MX9vsiQG8KpPMcq1I0/TX6LkXTDMnGQ
rslCrW9L5Dy7swEmLZ46xKN1MHMwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMC
B4AwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYEFI3X7GqKJbqBlOH6FFt2
3G0LJyY1MB8GA1UdIwQYMBaAFNr1e0fGoDTiHYCEsJrVaxruWpVmMAoGCCqGSM49
BAMCA0cAMEQCIC+B1U06aXBNzLtIFq2LFjcfk++aDrvFrkHLQItoEblrAiAFHxyr
iufX/XQeb2Lx/r3kfBPA44/iyQHMc31gyCkJaA==
-----END CERTIFICATE-----
`,
  clientKey: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2dormUJXlP6jCQzW
eFKSbzuHTokwnItTsHFfUTvZzYehRANCAATc/6tjDGz4CWnvLVVgIlPthVhhksCq
MY3gxf2+yJAbwqk8xyrUjT9NfouRdMMycZCuyUKtb0vkPLuzASYtnjrE
-----END PRIVATE KEY-----
`,
};

const ROOT = path.resolve(__dirname, '../..');

let dir: string;
const file = (name: string) => path.join(dir, name);

function expectConfigError(env: NodeJS.ProcessEnv, ...mentions: (string | RegExp)[]): ConfigError {
  let error: unknown;
  try {
    loadTemporalConfig(env);
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof ConfigError, `expected a ConfigError for ${JSON.stringify(env)}, got ${String(error)}`);
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok(error.message.includes(m), `"${error.message}" should mention ${m}`);
    else assert.match(error.message, m);
  }
  return error;
}

describe('deploy: Temporal connection settings (runtime/config.ts)', () => {
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'saga-temporal-tls-'));
    writeFileSync(file('ca.crt'), PEM.ca);
    writeFileSync(file('server.crt'), PEM.serverCrt);
    writeFileSync(file('server.key'), PEM.serverKey);
    writeFileSync(file('client.crt'), PEM.clientCrt);
    writeFileSync(file('client.key'), PEM.clientKey);
    writeFileSync(
      file('other.key'),
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    writeFileSync(file('not-pem.txt'), 'hello\n');
    mkdirSync(file('a-directory'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const mtls = () => ({ TEMPORAL_TLS_CERT_PATH: file('client.crt'), TEMPORAL_TLS_KEY_PATH: file('client.key') });

  describe('loadTemporalConfig', () => {
    it('defaults: 127.0.0.1:7233, namespace default, task queue order-saga, plaintext, no API key', () => {
      const config = loadTemporalConfig({});
      assert.deepEqual(config, { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'order-saga' });
      assert.deepEqual(temporalConnectionOptions(config), { address: '127.0.0.1:7233' });
    });

    it('reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_TASK_QUEUE as before', () => {
      const config = loadTemporalConfig({
        TEMPORAL_ADDRESS: 'temporal.example.com:7233',
        TEMPORAL_NAMESPACE: 'prod',
        TEMPORAL_TASK_QUEUE: 'sagas',
      });
      assert.deepEqual(config, { address: 'temporal.example.com:7233', namespace: 'prod', taskQueue: 'sagas' });
    });

    it('a bad TEMPORAL_ADDRESS is a ConfigError naming it', () => {
      for (const address of [
        'localhost',
        'localhost:',
        ':7233',
        'two words:7233',
        'host:port',
        'https://host:7233',
        'host:123456',
      ]) {
        expectConfigError({ TEMPORAL_ADDRESS: address }, 'TEMPORAL_ADDRESS');
      }
    });

    it('the new variables set but blank mean unset (compose files pass ${VAR:-} through)', () => {
      const blank = {
        TEMPORAL_TLS: '',
        TEMPORAL_TLS_CERT_PATH: '',
        TEMPORAL_TLS_KEY_PATH: ' ',
        TEMPORAL_TLS_CA_PATH: '',
        TEMPORAL_TLS_SERVER_NAME: '',
        TEMPORAL_API_KEY: '',
      };
      assert.deepEqual(loadTemporalConfig(blank), loadTemporalConfig({}));
    });

    it('TEMPORAL_TLS=true turns TLS on with nothing else (server verified with the system roots)', () => {
      for (const value of ['true', '1', 'TRUE']) {
        const config = loadTemporalConfig({ TEMPORAL_TLS: value });
        assert.deepEqual(config.tls, {});
        assert.deepEqual(temporalConnectionOptions(config), { address: '127.0.0.1:7233', tls: {} });
      }
      assert.equal(loadTemporalConfig({ TEMPORAL_TLS: 'false' }).tls, undefined);
    });

    it('TEMPORAL_TLS must be a boolean', () => {
      for (const value of ['yes', 'on', 'tls', '2'])
        expectConfigError({ TEMPORAL_TLS: value }, 'TEMPORAL_TLS', 'true or false');
    });

    it('TEMPORAL_API_KEY turns TLS on and is passed as apiKey; the description for logs never shows it', () => {
      const key = 'eyJhbGciOiJFUzI1NiJ9.test-key.signature';
      const config = loadTemporalConfig({
        TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
        TEMPORAL_API_KEY: key,
      });
      assert.equal(config.apiKey, key);
      assert.deepEqual(config.tls, {});
      assert.deepEqual(temporalConnectionOptions(config), {
        address: 'us-east-1.aws.api.temporal.io:7233',
        tls: {},
        apiKey: key,
      });
      const described = JSON.stringify(describeTemporalConfig(config));
      assert.ok(!described.includes(key), described);
      assert.match(described, /"tls":"TLS"/);
      assert.match(described, /"apiKey":"set"/);
    });

    it('a malformed API key is refused, naming TEMPORAL_API_KEY, without echoing it', () => {
      const error = expectConfigError({ TEMPORAL_API_KEY: 'two words' }, 'TEMPORAL_API_KEY');
      assert.ok(!error.message.includes('two words'));
      expectConfigError({ TEMPORAL_API_KEY: 'tab\there' }, 'TEMPORAL_API_KEY');
    });

    it('TEMPORAL_TLS=false contradicts an API key or any TLS file: refused, naming them', () => {
      expectConfigError({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }, 'TEMPORAL_TLS=false', 'TEMPORAL_API_KEY');
      expectConfigError({ TEMPORAL_TLS: 'false', ...mtls() }, 'TEMPORAL_TLS=false', 'TEMPORAL_TLS_CERT_PATH');
      expectConfigError({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA_PATH: file('ca.crt') }, 'TEMPORAL_TLS_CA_PATH');
    });

    it('a client certificate without its key, or a key without its certificate, is refused naming both', () => {
      expectConfigError(
        { TEMPORAL_TLS_CERT_PATH: file('client.crt') },
        'TEMPORAL_TLS_CERT_PATH is set',
        'TEMPORAL_TLS_KEY_PATH',
      );
      expectConfigError(
        { TEMPORAL_TLS_KEY_PATH: file('client.key') },
        'TEMPORAL_TLS_KEY_PATH is set',
        'TEMPORAL_TLS_CERT_PATH',
      );
    });

    it('a missing file is refused at start-up, naming its variable and the path', () => {
      const missing = file('nowhere/client.crt');
      expectConfigError(
        { ...mtls(), TEMPORAL_TLS_CERT_PATH: missing },
        'TEMPORAL_TLS_CERT_PATH',
        missing,
        'no such file',
      );
      expectConfigError({ ...mtls(), TEMPORAL_TLS_KEY_PATH: missing }, 'TEMPORAL_TLS_KEY_PATH', missing);
      expectConfigError({ TEMPORAL_TLS_CA_PATH: missing }, 'TEMPORAL_TLS_CA_PATH', missing);
    });

    it('a directory, or a file that is not PEM of the right kind, is refused naming its variable', () => {
      expectConfigError(
        { ...mtls(), TEMPORAL_TLS_CERT_PATH: file('a-directory') },
        'TEMPORAL_TLS_CERT_PATH',
        'not a file',
      );
      expectConfigError(
        { ...mtls(), TEMPORAL_TLS_CERT_PATH: file('client.key') },
        'TEMPORAL_TLS_CERT_PATH',
        'not a PEM certificate',
      );
      expectConfigError(
        { ...mtls(), TEMPORAL_TLS_KEY_PATH: file('client.crt') },
        'TEMPORAL_TLS_KEY_PATH',
        'not a PEM private key',
      );
      expectConfigError({ TEMPORAL_TLS_CA_PATH: file('not-pem.txt') }, 'TEMPORAL_TLS_CA_PATH', 'not a PEM certificate');
    });

    it("a key that is not the certificate's own is refused", () => {
      expectConfigError(
        { ...mtls(), TEMPORAL_TLS_KEY_PATH: file('other.key') },
        'TEMPORAL_TLS_KEY_PATH',
        'not the private key',
        'TEMPORAL_TLS_CERT_PATH',
      );
      expectConfigError({ ...mtls(), TEMPORAL_TLS_KEY_PATH: file('server.key') }, 'not the private key');
    });

    it('mTLS with a CA and a server name: TLS on, and the connection options carry the files', () => {
      const config = loadTemporalConfig({
        ...mtls(),
        TEMPORAL_TLS_CA_PATH: file('ca.crt'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      });
      assert.deepEqual(config.tls, {
        clientCertPath: file('client.crt'),
        clientKeyPath: file('client.key'),
        serverCaPath: file('ca.crt'),
        serverName: 'temporal.test',
      });
      const options = temporalConnectionOptions(config);
      assert.equal(options.tls?.clientCertPair?.crt.toString(), PEM.clientCrt);
      assert.equal(options.tls?.clientCertPair?.key.toString(), PEM.clientKey);
      assert.equal(options.tls?.serverRootCACertificate?.toString(), PEM.ca);
      assert.equal(options.tls?.serverNameOverride, 'temporal.test');
      assert.equal(options.apiKey, undefined);
      assert.equal(describeTemporalConfig(config).tls, 'mTLS');
    });

    it('a CA alone, or a server name alone, turns TLS on (server verification without a client certificate)', () => {
      assert.deepEqual(temporalConnectionOptions(loadTemporalConfig({ TEMPORAL_TLS_CA_PATH: file('ca.crt') })).tls, {
        serverRootCACertificate: Buffer.from(PEM.ca),
      });
      assert.deepEqual(
        temporalConnectionOptions(loadTemporalConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal.test' })).tls,
        { serverNameOverride: 'temporal.test' },
      );
    });

    it('a TEMPORAL_TLS_SERVER_NAME that is not a host name is refused', () => {
      expectConfigError({ TEMPORAL_TLS_SERVER_NAME: 'two words' }, 'TEMPORAL_TLS_SERVER_NAME');
      expectConfigError({ TEMPORAL_TLS_SERVER_NAME: 'https://temporal.test' }, 'TEMPORAL_TLS_SERVER_NAME');
    });
  });

  describe('temporalConnectionOptions', () => {
    it('reads the files when connecting: one gone since start-up is a ConfigError naming its variable', () => {
      writeFileSync(file('rotating.crt'), PEM.clientCrt);
      const config = loadTemporalConfig({ ...mtls(), TEMPORAL_TLS_CERT_PATH: file('rotating.crt') });
      unlinkSync(file('rotating.crt'));
      assert.throws(
        () => temporalConnectionOptions(config),
        (err: Error) => err instanceof ConfigError && /TEMPORAL_TLS_CERT_PATH/.test(err.message),
      );
    });

    it("its result is what both SDKs' connect() take", () => {
      const options: TemporalConnectionOptions = temporalConnectionOptions(
        loadTemporalConfig({ ...mtls(), TEMPORAL_API_KEY: 'k' }),
      );
      // Compile-time: these assignments are what the worker (NativeConnection) and the CLI (Connection) do.
      const native: NativeConnectionOptions = options;
      const client: ConnectionOptions = { ...options, connectTimeout: 1000 };
      assert.equal(native.apiKey, 'k');
      assert.ok(client.tls && typeof client.tls === 'object' && client.tls.clientCertPair);
    });
  });

  describe('on the wire: a TLS server on loopback records what each SDK presents', () => {
    interface Seen {
      path?: string;
      authorization?: string;
      serverName?: string;
      clientCertificate?: string;
      clientAuthorized: boolean;
    }
    let server: http2.Http2SecureServer;
    let port: number;
    const seen: Seen[] = [];
    const sessions = new Set<http2.ServerHttp2Session>();

    before(async () => {
      server = http2.createSecureServer({
        key: PEM.serverKey,
        cert: PEM.serverCrt,
        ca: PEM.ca,
        requestCert: true,
        rejectUnauthorized: false, // recorded instead, so that a connection without a client certificate is seen too
      });
      server.on('session', (session) => {
        sessions.add(session);
        session.once('close', () => sessions.delete(session));
      });
      server.on('stream', (stream, headers) => {
        const socket = stream.session!.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        seen.push({
          path: headers[':path'] as string,
          authorization: headers.authorization as string | undefined,
          serverName: (socket as TLSSocket & { servername?: string }).servername,
          clientCertificate: peer && 'subject' in peer && peer.subject ? [peer.subject.CN].flat().join(',') : undefined,
          clientAuthorized: socket.authorized,
        });
        // A gRPC answer every SDK understands and gives up on at once.
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '16',
            'grpc-message': 'recorded by the test server',
          },
          { endStream: true },
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    beforeEach(() => {
      seen.length = 0;
    });

    const fullEnv = () => ({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      ...mtls(),
      TEMPORAL_TLS_CA_PATH: file('ca.crt'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
      TEMPORAL_API_KEY: 'saga-test-api-key',
    });
    const expected: Seen = {
      path: '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo',
      authorization: 'Bearer saga-test-api-key',
      serverName: 'temporal.test',
      clientCertificate: 'saga test client',
      clientAuthorized: true,
    };

    it('the worker SDK (NativeConnection): client certificate, verified server name, API key', async () => {
      const options = temporalConnectionOptions(loadTemporalConfig(fullEnv()));
      await assert.rejects(NativeConnection.connect(options), /recorded by the test server|authentication/i);
      assert.deepEqual(seen[0], expected);
    });

    it('the client SDK (Connection, what the CLI uses): the same', async () => {
      const options = temporalConnectionOptions(loadTemporalConfig(fullEnv()));
      await assert.rejects(Connection.connect({ ...options, connectTimeout: 5000 }));
      assert.deepEqual(seen[0], expected);
    });

    it('TLS without a client certificate: the server sees none, and still the API key', async () => {
      const { TEMPORAL_TLS_CERT_PATH: _c, TEMPORAL_TLS_KEY_PATH: _k, ...env } = fullEnv();
      await assert.rejects(NativeConnection.connect(temporalConnectionOptions(loadTemporalConfig(env))));
      assert.equal(seen[0]?.clientCertificate, undefined);
      assert.equal(seen[0]?.authorization, 'Bearer saga-test-api-key');
      assert.equal(seen[0]?.serverName, 'temporal.test');
    });

    it('without the CA the worker refuses the server (its certificate is not trusted), so the CA setting is used', async () => {
      const { TEMPORAL_TLS_CA_PATH: _ca, ...env } = fullEnv();
      await assert.rejects(NativeConnection.connect(temporalConnectionOptions(loadTemporalConfig(env))));
      assert.equal(seen.length, 0, 'no request may be sent to an untrusted server');
    });

    describe('worker.ts', () => {
      function runWorker(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
        return new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', 'worker.ts'], {
            cwd: ROOT,
            env: {
              PATH: process.env.PATH,
              HOME: process.env.HOME,
              LOG_LEVEL: 'info',
              WORKER_METRICS_ADDRESS: 'off',
              SERVICE_AUTH_TOKEN: 'worker-test-token-0123456789',
              ...env,
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let output = '';
          child.stdout.on('data', (d) => (output += d));
          child.stderr.on('data', (d) => (output += d));
          const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
          child.once('error', reject);
          child.once('exit', (code) => {
            clearTimeout(timer);
            resolve({ code, output });
          });
        });
      }

      it('connects with these settings (certificate, CA, server name, API key), and never prints the key', async () => {
        const { code, output } = await runWorker(fullEnv());
        assert.equal(code, 1, output);
        assert.match(output, /cannot reach the Temporal server at 127\.0\.0\.1:\d+/);
        assert.deepEqual(seen[0], expected);
        assert.ok(!output.includes('saga-test-api-key'), output);
      });

      it('a bad setting stops it before connecting, with a message naming the variable', async () => {
        const { code, output } = await runWorker({
          TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
          TEMPORAL_TLS_CERT_PATH: file('client.crt'),
        });
        assert.equal(code, 1, output);
        assert.match(output, /TEMPORAL_TLS_KEY_PATH/);
        assert.equal(seen.length, 0);
      });
    });
  });
});
