// The worker bundles this file: every workflow the task queue serves is exported here, under its workflow type
// (each saga in ./sagas.ts).
import { orderSaga as order } from './order-saga';
import { returnSaga as ret } from './return-saga';

export const orderSaga = order.workflow;
export const returnSaga = ret.workflow;
