// A bad deploy, for the recovery tests: the order saga's code changed in a way Temporal cannot replay (it now waits a
// moment before its first step), so every run started by the old code fails its next workflow task with a
// non-determinism error and is stuck. Runs started by this code (a recovery run among them) are fine.
import { sleep } from '@temporalio/workflow';
import type { SagaRunOptions } from 'temporal-saga-kit/workflow';
import { orderSaga as order } from '../../workflows/order-saga';

export * from './test-workflows';

export async function orderSaga(input: Parameters<typeof order.workflow>[0], options?: SagaRunOptions) {
  await sleep(1);
  return order.workflow(input, options);
}
