import { defineOrderSaga } from '../../workflows/order-saga';

/** The order saga compensating all at once (its workflow type: orderParallelCompensationSaga). */
export const orderSagaParallelCompensation = defineOrderSaga('order-parallel-compensation', { parallel: true });

/** The order saga going on with its other compensations while a failed one waits for an operator. */
export const orderSagaContinuingCompensation = defineOrderSaga('order-continue-on-compensation-error', {
  continueOnError: true,
});
