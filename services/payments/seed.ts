import type { PaymentsDb } from './db';

/** Demo customers. Seeding only inserts what is missing, so it is safe on every start. */
export const SEED_CUSTOMERS = [
  { id: 'cust-alice', name: 'Alice (well funded)', balanceCents: 500_000, creditLimitCents: 0 },
  { id: 'cust-bob', name: 'Bob (modest balance)', balanceCents: 20_000, creditLimitCents: 0 },
  { id: 'cust-carol', name: 'Carol (pays on credit)', balanceCents: 0, creditLimitCents: 100_000 },
  { id: 'cust-broke', name: 'Broke (almost nothing)', balanceCents: 500, creditLimitCents: 0 },
];

export async function seedPayments(db: PaymentsDb): Promise<void> {
  await db.customer.createMany({ data: SEED_CUSTOMERS, skipDuplicates: true });
}
