import { SAGA_LIST } from '../../workflows/sagas';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import { genericAdapter, type SagaCliAdapter } from './adapter';
import { orderCli } from './order';
import { returnCli } from './return';

/** The CLI adapter of every registered saga: its own, or the generic one (`--input JSON`). The first is the default. */
const OWN: SagaCliAdapter[] = [orderCli as unknown as SagaCliAdapter, returnCli as unknown as SagaCliAdapter];

export const SAGA_CLIS: SagaCliAdapter[] = SAGA_LIST.map(
  (saga) => OWN.find((a) => a.saga === saga) ?? genericAdapter(saga as SagaDefinition),
);

export function cliOf(sagaName: string | undefined): SagaCliAdapter | undefined {
  return SAGA_CLIS.find((a) => a.saga.name === sagaName);
}
