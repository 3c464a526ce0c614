/**
 * The four services of the order saga: their names, default ports and the environment variables that configure
 * them. One place, read by the services, the activities, the stack launcher and the tests.
 */
export const SERVICE_NAMES = ['orders', 'inventory', 'payments', 'shipping'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_SERVICE_PORTS: Record<ServiceName, number> = {
  orders: 4101,
  inventory: 4102,
  payments: 4103,
  shipping: 4104,
};

/** Where each service serves its Prometheus metrics (GET /metrics), apart from its business port. */
export const DEFAULT_METRICS_PORTS: Record<ServiceName, number> = {
  orders: 9101,
  inventory: 9102,
  payments: 9103,
  shipping: 9104,
};

/** The worker's metrics (the Temporal SDK's and the sagas'), served by the SDK's runtime: WORKER_METRICS_PORT. */
export const DEFAULT_WORKER_METRICS_PORT = 9464;

/** ORDERS_DATABASE_URL, INVENTORY_PORT, ...: every per-service setting is prefixed with the service's name. */
export function serviceEnvName(
  service: ServiceName,
  setting: 'DATABASE_URL' | 'PORT' | 'URL' | 'DB_POOL_SIZE' | 'METRICS_PORT',
): string {
  return `${service.toUpperCase()}_${setting}`;
}
