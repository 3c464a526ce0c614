import assert from 'node:assert/strict';
import { getFreePort } from '../runtime/ports';
describe('smoke', () => {
  it('finds a port', async () => {
    assert.ok((await getFreePort()) > 0);
  });
});
