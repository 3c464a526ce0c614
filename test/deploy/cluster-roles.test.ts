import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sagaMessages } from 'temporal-saga-kit/workflow';
import { CLUSTER_CONFIG_FILE } from '../../infra/temporal/cluster/cluster';
import { DEFAULT_CLIENT_ROLES, SYSTEM_CLIENT } from '../../infra/temporal/cluster/pki';
import { SERVER_MODULE_DIR, TEMPORAL_SERVER_VERSION } from '../../infra/temporal/cluster/server-binary';

/**
 * The cluster's certificate roles are written in Go (infra/temporal/cluster/server/roles.go) but name things the
 * TypeScript side defines: the kit's decision updates, the certificates pki.ts issues, the server release. These
 * checks keep the two sides in step without starting the cluster (test/cluster/roles.cluster.ts does that).
 */
describe('deploy: the cluster server module and its roles agree with the kit, the PKI and the release', () => {
  const roles = readFileSync(path.join(SERVER_MODULE_DIR, 'roles.go'), 'utf8');
  const goMod = readFileSync(path.join(SERVER_MODULE_DIR, 'go.mod'), 'utf8');

  it("lets the operator send exactly the kit's two dead-letter decisions", () => {
    const block = /var operatorDecisionUpdates = map\[string\]bool\{([^}]*)\}/.exec(roles)?.[1] ?? '';
    const names = [...block.matchAll(/"([^"]+)":\s*true/g)].map((m) => m[1]).sort();
    assert.deepEqual(names, [sagaMessages.resolveCompensation.name, sagaMessages.retryCompensation.name].sort());
  });

  it('knows the roles of the certificates pki.ts issues, and nothing else', () => {
    const constants = [...roles.matchAll(/role\w+\s*=\s*"([a-z-]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(constants, [...DEFAULT_CLIENT_ROLES, SYSTEM_CLIENT].sort());
  });

  it('builds the release the cluster runs, from a committed go.sum', () => {
    assert.match(
      goMod,
      new RegExp(`^\\s*go\\.temporal\\.io/server ${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')}$`, 'm'),
    );
    const sum = readFileSync(path.join(SERVER_MODULE_DIR, 'go.sum'), 'utf8');
    assert.match(
      sum,
      new RegExp(`^go\\.temporal\\.io/server ${TEMPORAL_SERVER_VERSION.replace(/\./g, '\\.')} h1:`, 'm'),
    );
  });

  it('config.yaml turns the roles on together with mTLS, and only then', () => {
    const config = readFileSync(CLUSTER_CONFIG_FILE, 'utf8');
    const tlsBlock = /\{\{- with env "TEMPORAL_TLS_DIR" \}\}([\s\S]*?)\{\{- end \}\}/.exec(config)?.[1] ?? '';
    assert.match(tlsBlock, /requireClientAuth: true/);
    assert.match(tlsBlock, /authorization:\s*\n\s*authorizer: saga-roles\s*\n\s*claimMapper: saga-roles/);
    assert.equal(config.match(/saga-roles/g)?.length, 3, 'saga-roles nowhere else (twice here, once in a comment)');
  });
});
