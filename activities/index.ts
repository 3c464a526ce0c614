export { createOrderActivities, type OrderActivities } from './order-activities';
export { ServiceClient, type ServiceClientConfig } from './service-client';
