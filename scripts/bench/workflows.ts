// The bench worker's workflow bundle entry: the order saga as the real worker serves it, plus the floor workflow.
export { orderSaga } from '../../workflows/order-saga';
export { benchFloor } from './bench-floor';
