import assert from 'node:assert/strict';
import { sagaWorkerOptions } from 'temporal-saga-kit/worker';

/** sagaWorkerOptions' memory side: the sticky cache sized from a budget, zod preloaded once per workflow thread. */
describe('sagaWorkerOptions: cache size and shared modules', () => {
  const base = { workflowsPath: require.resolve('./workflows') };

  it('cacheMemoryMb sizes maxCachedWorkflows at 0.5 MB per saga; without it the SDK sizes the cache', () => {
    assert.equal(sagaWorkerOptions({ ...base, cacheMemoryMb: 128 }).maxCachedWorkflows, 256);
    assert.equal(sagaWorkerOptions({ ...base, cacheMemoryMb: 0.1 }).maxCachedWorkflows, 2, "the SDK's minimum");
    assert.ok(!('maxCachedWorkflows' in sagaWorkerOptions(base)));
  });

  it('refuses a budget that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN])
      assert.throws(() => sagaWorkerOptions({ ...base, cacheMemoryMb: bad }), /cacheMemoryMb must be a positive/);
  });

  it('bundling from a path preloads zod and aliases it to one build', () => {
    const { bundlerOptions } = sagaWorkerOptions(base);
    assert.ok(bundlerOptions?.preloadModules?.includes('zod'));
    const config = bundlerOptions!.webpackConfigHook!({ resolve: { alias: { other$: 'x' } } });
    const alias = config.resolve!.alias as Record<string, string>;
    assert.equal(alias.other$, 'x');
    assert.equal(alias.zod$, require.resolve('zod'));
  });
});
