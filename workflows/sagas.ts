import { createOrderActivities } from '../activities/order-activities';
import { createReturnActivities } from '../activities/return-activities';
import { orderSaga } from './order-saga';
import { returnSaga } from './return-saga';

/**
 * Every saga this app runs, with the factory of its activities: the Node side's list, which the worker (its
 * activities), the client, the CLI (`--saga NAME`), the demo and the chaos run read. A saga is registered in two
 * places: here, and in the workflow bundle's list (./index.ts, which exports its workflow under its workflow type).
 * Its own CLI options (cli/sagas/) are optional: without them, `start <saga> --input JSON`.
 */
export const SAGA_REGISTRY = [
  { saga: orderSaga, activities: createOrderActivities },
  { saga: returnSaga, activities: createReturnActivities },
] as const;

export const SAGA_LIST = SAGA_REGISTRY.map((r) => r.saga);

export function findSaga(name: string) {
  return SAGA_LIST.find((s) => s.name === name);
}

export function sagaOfWorkflowType(workflowType: string) {
  return SAGA_LIST.find((s) => s.workflowType === workflowType);
}
