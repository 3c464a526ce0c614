import type { ServiceName } from '../../services/catalog';
import { httpClient } from './http';

/** Where each service listens: any stack (in-process, time-skipping) that runs the four services. */
export type ServiceUrls = Record<ServiceName, { url: string }>;

/** Each service's record for the order, read over its own HTTP API: the record's status, or 404. */
export async function sagaRecords(services: ServiceUrls, orderId: string) {
  const status = async (service: ServiceName, path: string) => {
    const res = await httpClient(services[service].url).get(path);
    return res.status === 404 ? 404 : res.body.status;
  };
  return {
    order: await status('orders', `/orders/${orderId}`),
    reservation: await status('inventory', `/reservations/${orderId}`),
    shipment: await status('shipping', `/shipments/${orderId}`),
    payment: await status('payments', `/payments/${orderId}`),
  };
}

/** Stock per SKU and balance per customer: what a compensated saga must leave as it found it. */
export async function ledger(services: ServiceUrls, customers: string[]) {
  const products = (await httpClient(services.inventory.url).get('/products')).body as {
    sku: string;
    available: number;
    held: number;
    sold: number;
  }[];
  const balances: Record<string, number> = {};
  for (const id of customers)
    balances[id] = (await httpClient(services.payments.url).get(`/customers/${id}`)).body.balanceCents;
  return {
    stock: Object.fromEntries(products.map((p) => [p.sku, { available: p.available, held: p.held, sold: p.sold }])),
    balances,
  };
}
