// The test stack's workflow bundle: every saga the worker registers (workflows/index.ts), and the order saga's
// variants that compensate differently (their definitions choose it: workflows/order-saga.ts, defineOrderSaga).
import { orderSagaContinuingCompensation, orderSagaParallelCompensation } from './order-saga-variants';

export * from '../../workflows';
export const orderParallelCompensationSaga = orderSagaParallelCompensation.workflow;
export const orderContinueOnCompensationErrorSaga = orderSagaContinuingCompensation.workflow;
