// The worker bundles this file: every workflow the task queue serves is exported here, under its workflow type
// (each saga in ./sagas.ts).
import { orderSaga as order } from './order-saga';

export const orderSaga = order.workflow;
