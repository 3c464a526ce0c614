// The workflow bundle's list: every workflow the task queue serves, exported under its workflow type. A saga is
// registered here and in ./sagas.ts (the Node side's list, with its activities): nowhere else.
import { orderSaga as order } from './order-saga';
import { returnSaga as ret } from './return-saga';

export const orderSaga = order.workflow;
export const returnSaga = ret.workflow;
// The kit's recovery sweep: finds sagas that Temporal ended without their consent and starts their recovery runs.
export { sagaRecoverySweep } from 'temporal-saga-kit/workflow';
