import { SAGA_REGISTRY } from '../workflows/sagas';
import type { ServiceClient } from './service-client';

export { createOrderActivities, type OrderActivities } from './order-activities';
export { createReturnActivities, type ReturnActivities } from './return-activities';
export { createDeadLetterPort } from './dead-letter-activities';
export { ServiceClient, type ServiceClientConfig } from './service-client';

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** Every registered saga's activities together. */
export type SagaActivities = UnionToIntersection<ReturnType<(typeof SAGA_REGISTRY)[number]['activities']>>;

/**
 * Every registered saga's activities (workflows/sagas.ts): what a saga worker registers (the kit adds its
 * dead-letter activities, over the port).
 */
export function createSagaActivities(serviceClient: ServiceClient): SagaActivities {
  return Object.assign({}, ...SAGA_REGISTRY.map((r) => r.activities(serviceClient))) as SagaActivities;
}
