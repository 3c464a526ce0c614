import { stopTestPostgres } from './postgres';
import { stopTestCluster } from './temporal-target';

/** Mocha root hooks: shared servers started lazily by the tests are stopped once, after the whole run. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopTestCluster();
    await stopTestPostgres();
  },
};
