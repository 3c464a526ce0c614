// The bench worker's workflow bundle entry: the order saga as the real worker serves it, plus the floors.
export { orderSaga } from '../../workflows';
export { plainOrderWorkflow, sagaShapeFloor, sagaShapeFloorLocal } from './floor-workflows';
