/**
 * Customers that only tests need; a test file creates them in its own payments database (the production seed holds
 * the demo's customers only). One charge of 8000 fits RACE_CUSTOMER's balance, a second one does not.
 */
export const RACE_CUSTOMER = {
  id: 'cust-race',
  name: 'Race (contention tests)',
  balanceCents: 10_000,
  creditLimitCents: 0,
};
