import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, type TLSConfig } from '@temporalio/client';
import { clusterTlsOptions, startTemporalCluster, type TemporalCluster } from '../../infra/temporal/cluster/cluster';
import { DEFAULT_CLIENT_ROLES, makeLocalPki, SYSTEM_CLIENT, type LocalPki } from '../../infra/temporal/cluster/pki';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { testPostgres } from '../support/postgres';

/**
 * The real Temporal server (its four roles) with mTLS on its frontend, from the scripted local CA: a client without
 * TLS, or with TLS but no certificate, or with another CA's certificate, is refused; a client with a role's
 * certificate is served (and the server's own worker role got in with its certificate: the namespace is served).
 */
describe('the Temporal cluster with mTLS on its frontend (config.yaml, TEMPORAL_TLS_DIR)', function () {
  this.timeout(400_000);
  let dir: string;
  let pki: LocalPki;
  let cluster: TemporalCluster;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'saga-mtls-cluster-'));
    pki = makeLocalPki(path.join(dir, 'pki'), { clients: [...DEFAULT_CLIENT_ROLES, SYSTEM_CLIENT] });
    const suffix = randomBytes(4).toString('hex');
    cluster = await startTemporalCluster({
      postgres: (await testPostgres()).endpoint,
      databases: { default: `saga_mtls_${suffix}`, visibility: `saga_mtls_visibility_${suffix}` },
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      logDir: path.join(dir, 'logs'),
      tls: pki,
    });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const reach = async (tls?: TLSConfig) => {
    const connection = await Connection.connect({ address: cluster.address, connectTimeout: 5_000, tls });
    try {
      await connection.workflowService.getSystemInfo({});
      return (await connection.workflowService.describeNamespace({ namespace: cluster.namespace })).namespaceInfo?.name;
    } finally {
      await connection.close();
    }
  };

  it('serves a client with a certificate of its CA, each role', async () => {
    for (const role of DEFAULT_CLIENT_ROLES) assert.equal(await reach(clusterTlsOptions(pki, role)), cluster.namespace);
  });

  it('refuses a client without TLS, with TLS but no certificate, or with a certificate of another CA', async () => {
    await assert.rejects(reach());
    const { clientCertPair: _none, ...withoutCertificate } = clusterTlsOptions(pki, 'reader');
    await assert.rejects(reach(withoutCertificate));
    const stranger = makeLocalPki(path.join(dir, 'stranger'), { clients: ['worker'] });
    const foreign = clusterTlsOptions(stranger, 'worker');
    await assert.rejects(reach({ ...clusterTlsOptions(pki, 'worker'), clientCertPair: foreign.clientCertPair }));
  });
});
