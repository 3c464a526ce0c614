import type { RawSql } from './idempotency';

/**
 * Serialises every request about one business object (e.g. one order's reservation) for the rest of the current
 * transaction. Without it, two requests for the same order under different idempotency keys (a reserve racing its
 * own release, a confirm racing a release) both read "PENDING" or "absent" and both act. The lock is released at
 * commit or rollback; under READ COMMITTED every statement after it sees what the previous holder committed.
 */
export async function lockBusinessKey(tx: RawSql, scope: string, key: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${scope}), hashtext(${key}))`;
}
