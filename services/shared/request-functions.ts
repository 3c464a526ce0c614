import pg from 'pg';
import { HttpError } from './errors';

/**
 * How a mutating request reaches its database: one round trip.
 *
 * Each mutating endpoint is one plpgsql function in its service's migrations (prisma/<service>/migrations/
 * *_request_functions), called with the pg driver on the Prisma client's own pool (service-db.ts): it answers a
 * replay from the idempotency record, or claims the key, makes the business change, writes the status row and stores
 * the response, in the one statement's transaction (see idempotency.ts for the idempotency part). An interactive
 * transaction did the same in about ten round trips.
 *
 * A business answer (404, 409, 422) is raised inside the function as SQLSTATE 'SG' + the HTTP status, with the
 * message and {code, details} as JSON in the error's DETAIL; the raise rolls the whole statement back, the key's claim
 * included, and businessAnswer() below turns it into the HttpError the error middleware answers with.
 *
 * THE RACE GUARD, the one style in every service: conditional single-statement writes.
 *   - A row that must exist once (a reservation, payment, shipment or order per order id; a tombstone) is inserted
 *     with INSERT ... ON CONFLICT DO NOTHING. A concurrent insert of the same key waits on the primary key until the
 *     first commits, then inserts nothing, and the loser decides on the committed row.
 *   - A transition carries its precondition in its WHERE clause (UPDATE ... WHERE status = 'PENDING'; stock and
 *     credit: WHERE available >= quantity). PostgreSQL takes the row lock and re-checks the predicate after any
 *     concurrent writer commits, so of two racing requests exactly one moves the row, and exactly one gets the last
 *     unit of stock or credit.
 *   - When the write changed nothing, the function reads the committed state and decides: already done (the same
 *     answer again), final (409), or - if the row turned up in between - tries the write again.
 *   - Rows of several objects (products) are always written in key order, so two requests never deadlock.
 * Why this style rather than a lock taken before reading (the advisory locks the services used before): the guard
 * is in the statement that writes, so it cannot be forgotten by a code path that skips the lock, it costs no extra
 * round trip, and it serialises only requests that touch the same row.
 */

/** The row every request function returns. */
interface ResponseRow {
  status_code: number;
  body: unknown;
  replayed: boolean;
}

export interface IdempotentResult {
  status: number;
  body: unknown;
  /** True when this is the stored answer to an earlier request with the same key. */
  replayed: boolean;
}

/** SQLSTATE class of the business answers the request functions raise: 'SG' + the HTTP status. */
const BUSINESS_ANSWER = /^SG(\d{3})$/;

/** The HttpError a request function raised, or undefined for any other failure (which stays a 5xx). */
function businessAnswer(err: unknown): HttpError | undefined {
  if (!(err instanceof pg.DatabaseError)) return undefined;
  const status = BUSINESS_ANSWER.exec(err.code ?? '')?.[1];
  if (!status) return undefined;
  const { code, details } = JSON.parse(err.detail ?? '{}') as { code: string; details?: unknown };
  return new HttpError(Number(status), code, err.message || code, details);
}

/** What runs a request function: the service's pool (service-db.ts). */
export interface RequestFunctionDb {
  requestPool: pg.Pool;
}

/** One prepared statement per call site: the template's text, built once, and the name PostgreSQL keeps its plan under. */
const statements = new Map<TemplateStringsArray, { name: string; text: string }>();

/**
 * `sql\`SELECT * FROM fn(${a}, ${b}::jsonb)\`` → a parameterised query ($1, $2: the values are never spliced into the
 * text). Each call site is a named prepared statement, so a connection parses and plans it once, not per request
 * (measured: unnamed, the services spent ~10 % more CPU per call). A migration that changes a function's result
 * columns needs the services restarted (they migrate at start, before their pool opens).
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): pg.QueryConfig {
  let statement = statements.get(strings);
  if (!statement) {
    const text = strings.reduce((text, part, i) => `${text}$${i}${part}`);
    statement = { name: `request_function_${statements.size}`, text };
    statements.set(strings, statement);
  }
  return { ...statement, values };
}

/** Runs one request function's query (sql`SELECT * FROM <fn>(...)`) and answers its response. */
export async function runRequestFunction(db: RequestFunctionDb, query: pg.QueryConfig): Promise<IdempotentResult> {
  try {
    const {
      rows: [row],
    } = await db.requestPool.query<ResponseRow>(query);
    return { status: row.status_code, body: row.body, replayed: row.replayed };
  } catch (err) {
    throw businessAnswer(err) ?? err;
  }
}
