import { createOrderActivities } from './order-activities';
import { createReturnActivities } from './return-activities';
import type { ServiceClient } from './service-client';

export { createOrderActivities, type OrderActivities } from './order-activities';
export { createReturnActivities, type ReturnActivities } from './return-activities';
export { createDeadLetterPort } from './dead-letter-activities';
export { ServiceClient, type ServiceClientConfig } from './service-client';

/** Every registered saga's activities: what a saga worker registers (the kit adds its dead-letter activities). */
export function createSagaActivities(serviceClient: ServiceClient) {
  return {
    ...createOrderActivities(serviceClient),
    ...createReturnActivities(serviceClient),
  };
}
export type SagaActivities = ReturnType<typeof createSagaActivities>;
