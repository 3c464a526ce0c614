import type { ServiceName } from './catalog';
import { inventoryService } from './inventory/service';
import { ordersService } from './orders/service';
import { paymentsService } from './payments/service';
import type { ServiceDb, ServiceDefinition } from './shared/runtime';
import { shippingService } from './shipping/service';

/** Every service's definition, by name: what the stack launcher and the tests start. */
export const SERVICE_DEFINITIONS: Record<ServiceName, ServiceDefinition<ServiceDb>> = {
  orders: ordersService as unknown as ServiceDefinition<ServiceDb>,
  inventory: inventoryService as unknown as ServiceDefinition<ServiceDb>,
  payments: paymentsService as unknown as ServiceDefinition<ServiceDb>,
  shipping: shippingService as unknown as ServiceDefinition<ServiceDb>,
};
