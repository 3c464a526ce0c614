import type { ShippingDb } from './db';

/**
 * The countries the carrier delivers to. Seeding only inserts what is missing, so it is safe on every start.
 * Deliberately absent, so that tests and demos can provoke an undeliverable destination: AQ (Antarctica), KP.
 */
export const SEED_SERVICE_AREAS = [
  { country: 'US', name: 'United States' },
  { country: 'CA', name: 'Canada' },
  { country: 'GB', name: 'United Kingdom' },
  { country: 'IE', name: 'Ireland' },
  { country: 'FR', name: 'France' },
  { country: 'DE', name: 'Germany' },
  { country: 'NL', name: 'Netherlands' },
  { country: 'BE', name: 'Belgium' },
  { country: 'ES', name: 'Spain' },
  { country: 'IT', name: 'Italy' },
  { country: 'SE', name: 'Sweden' },
  { country: 'JP', name: 'Japan' },
  { country: 'AU', name: 'Australia' },
];

export async function seedShipping(db: ShippingDb): Promise<void> {
  await db.serviceArea.createMany({ data: SEED_SERVICE_AREAS, skipDuplicates: true });
}
