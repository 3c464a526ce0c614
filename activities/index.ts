import { createDeadLetterActivities } from './dead-letter-activities';
import { createOrderActivities } from './order-activities';
import { createReturnActivities } from './return-activities';
import type { ServiceClient } from './service-client';

export { createOrderActivities, type OrderActivities } from './order-activities';
export { createReturnActivities, type ReturnActivities } from './return-activities';
export { createDeadLetterActivities } from './dead-letter-activities';
export { ServiceClient, type ServiceClientConfig } from './service-client';

/** Every registered saga's activities and the kit's dead-letter log: what a saga worker registers. */
export function createSagaActivities(serviceClient: ServiceClient) {
  return {
    ...createOrderActivities(serviceClient),
    ...createReturnActivities(serviceClient),
    ...createDeadLetterActivities(serviceClient),
  };
}
export type SagaActivities = ReturnType<typeof createSagaActivities>;
