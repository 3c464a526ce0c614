import { orderSaga } from './order-saga';
import { returnSaga } from './return-saga';

/**
 * Every saga the worker registers, by name: what the client, the CLI (`--saga NAME`), the demo and the chaos run
 * iterate over. Add a saga here and export its workflow from ./index.ts.
 */
const SAGAS = { [orderSaga.name]: orderSaga, [returnSaga.name]: returnSaga } as const;
export const SAGA_LIST = Object.values(SAGAS);

export function findSaga(name: string) {
  return SAGA_LIST.find((s) => s.name === name);
}

export function sagaOfWorkflowType(workflowType: string) {
  return SAGA_LIST.find((s) => s.workflowType === workflowType);
}
