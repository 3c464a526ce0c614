import type { InventoryDb } from './db';

/** Demo catalogue. Seeding only inserts what is missing, so it is safe on every start. */
export const SEED_PRODUCTS = [
  { sku: 'KB-001', name: 'Mechanical keyboard', priceCents: 8900, available: 100 },
  { sku: 'MS-002', name: 'Wireless mouse', priceCents: 2900, available: 200 },
  { sku: 'MN-003', name: '27" monitor', priceCents: 24900, available: 25 },
  { sku: 'CB-004', name: 'USB-C cable', priceCents: 900, available: 500 },
  { sku: 'LT-005', name: 'Limited-edition lamp', priceCents: 12000, available: 1 },
];

export async function seedInventory(db: InventoryDb): Promise<void> {
  await db.product.createMany({ data: SEED_PRODUCTS, skipDuplicates: true });
}
