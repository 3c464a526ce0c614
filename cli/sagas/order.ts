import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from 'commander';
import { orderSaga } from '../../workflows/order-saga';
import type { OrderSagaInput } from '../../workflows/order-saga-input';
import type { SagaCliAdapter } from './adapter';

/** `start order`: an order from --customer, --item (repeatable) and --ship-to. */
type Item = OrderSagaInput['items'][number];
type Destination = OrderSagaInput['destination'];

/** `--item SKU:QTY`, repeatable. The SKU may itself contain ":" (the quantity is after the last one). */
function parseItem(value: string, previous: Item[] | undefined): Item[] {
  const at = value.lastIndexOf(':');
  const sku = value.slice(0, at).trim();
  const quantity = value.slice(at + 1).trim();
  if (at < 0 || !sku || !/^\d+$/.test(quantity) || Number(quantity) < 1) {
    throw new InvalidArgumentError(`expected SKU:QTY with a whole quantity of at least 1, e.g. KB-001:2`);
  }
  return [...(previous ?? []), { sku, quantity: Number(quantity) }];
}

/** `--ship-to "recipient|line1|city|postalCode|CC"`; the country code is upper-cased. */
function parseShipTo(value: string): Destination {
  const parts = value.split('|').map((p) => p.trim());
  if (parts.length !== 5 || parts.some((p) => !p)) {
    throw new InvalidArgumentError(
      'expected "recipient|line1|city|postalCode|CC" (5 non-empty parts), e.g. "Alice Example|Hauptstr. 1|Berlin|10115|DE"',
    );
  }
  const [recipient, line1, city, postalCode, country] = parts;
  return { recipient, line1, city, postalCode, country: country.toUpperCase() };
}

/** A fresh order id when --order is not given: `ord-` and 8 hex digits. */
function generateOrderId(): string {
  return `ord-${randomBytes(4).toString('hex')}`;
}

export function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

export const orderCli: SagaCliAdapter<typeof orderSaga> = {
  saga: orderSaga,
  options: (command) =>
    command
      .option('--order <id>', 'order id, also the workflow id (default: ord- and a random suffix)')
      .requiredOption('--customer <id>', 'customer id')
      .requiredOption('--item <SKU:QTY>', 'an order line, repeatable', parseItem)
      .requiredOption(
        '--ship-to <address>',
        'destination as "recipient|line1|city|postalCode|CC" (CC: ISO country code)',
        parseShipTo,
      ),
  input: (o) => ({
    orderId: (o.order as string | undefined) ?? generateOrderId(),
    customerId: o.customer as string,
    items: o.item as Item[],
    destination: o.shipTo as Destination,
  }),
  facts: (data) => [
    ...(typeof data.totalCents === 'number' ? [`total ${formatCents(data.totalCents)}`] : []),
    ...(typeof data.trackingNumber === 'string' ? [`tracking ${data.trackingNumber}`] : []),
  ],
  examples: `
  tsx client.ts start --customer cust-alice --item KB-001:1 --ship-to "Alice Example|Hauptstr. 1|Berlin|10115|DE" --wait
  tsx client.ts start order --order ord-42 --customer cust-alice --item KB-001:2 --item LT-005:1 \\
      --ship-to "Alice Example|Hauptstr. 1|Berlin|10115|DE" --fault charge-payment=reject`,
};
