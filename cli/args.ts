import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from 'commander';
import { ORDER_SAGA_COMPENSATIONS, ORDER_SAGA_STEPS, type OrderSagaActionName, type OrderSagaInput } from '../workflows/order-saga-input';
import type { SagaStatus } from '../workflows/saga/types';
import { parseFaultSpec } from '../services/shared/fault-spec';
import { hasControlCharacters } from '../services/shared/fields';
import { CliError, EXIT } from './errors';

/**
 * Commander argument parsers: each turns one option value into its typed form or throws InvalidArgumentError,
 * which commander reports as a usage error (exit 64). The order input as a whole is then checked by the saga
 * client's schema (parseOrderSagaInput) before anything connects.
 */

export type Item = OrderSagaInput['items'][number];
export type Destination = OrderSagaInput['destination'];
export type Faults = NonNullable<OrderSagaInput['faults']>;

/** `--item SKU:QTY`, repeatable. The SKU may itself contain ":" (the quantity is after the last one). */
export function parseItem(value: string, previous: Item[] | undefined): Item[] {
  const at = value.lastIndexOf(':');
  const sku = value.slice(0, at).trim();
  const quantity = value.slice(at + 1).trim();
  if (at < 0 || !sku || !/^\d+$/.test(quantity) || Number(quantity) < 1) {
    throw new InvalidArgumentError(`expected SKU:QTY with a whole quantity of at least 1, e.g. KB-001:2`);
  }
  return [...(previous ?? []), { sku, quantity: Number(quantity) }];
}

export const SAGA_ACTIONS: readonly OrderSagaActionName[] = [...ORDER_SAGA_STEPS, ...ORDER_SAGA_COMPENSATIONS];

/** `--fault ACTION=SPEC`, repeatable; two faults for one action are combined (`transient:2` + `delay:500`). */
export function parseFault(value: string, previous: Faults | undefined): Faults {
  const at = value.indexOf('=');
  const action = value.slice(0, at).trim() as OrderSagaActionName;
  const spec = value.slice(at + 1).trim();
  if (at < 0 || !spec) throw new InvalidArgumentError('expected ACTION=SPEC, e.g. charge-payment=reject');
  if (!SAGA_ACTIONS.includes(action)) throw new InvalidArgumentError(`unknown action "${action}"; one of: ${SAGA_ACTIONS.join(', ')}`);
  const faults = { ...previous };
  faults[action] = faults[action] ? `${faults[action]},${spec}` : spec;
  // The services' own grammar and bounds (services/shared/fault-spec.ts): what they would refuse never starts a saga.
  try {
    parseFaultSpec(faults[action]);
  } catch (err) {
    throw new InvalidArgumentError(`${action}: ${(err as Error).message}`);
  }
  return faults;
}

/** `--ship-to "recipient|line1|city|postalCode|CC"`; the country code is upper-cased. */
export function parseShipTo(value: string): Destination {
  const parts = value.split('|').map((p) => p.trim());
  if (parts.length !== 5 || parts.some((p) => !p)) {
    throw new InvalidArgumentError('expected "recipient|line1|city|postalCode|CC" (5 non-empty parts), e.g. "Alice Example|Hauptstr. 1|Berlin|10115|DE"');
  }
  const [recipient, line1, city, postalCode, country] = parts;
  return { recipient, line1, city, postalCode, country: country.toUpperCase() };
}

export const SAGA_STATUSES = ['RUNNING', 'COMMITTED', 'COMPLETED', 'COMPENSATING', 'NEEDS_ATTENTION', 'COMPENSATED', 'COMPENSATION_FAILED'] as const satisfies readonly SagaStatus[];

export function parseSagaStatus(value: string): SagaStatus {
  const status = value.trim().toUpperCase() as SagaStatus;
  if (!SAGA_STATUSES.includes(status)) throw new InvalidArgumentError(`one of: ${SAGA_STATUSES.join(', ')}`);
  return status;
}

export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 1000) throw new InvalidArgumentError('a whole number from 1 to 1000');
  return Number(value);
}

/** `--compensation NAME` of the dead-letter commands: one of the saga's compensating actions. */
export function parseCompensation(value: string): string {
  const name = value.trim();
  if (!(ORDER_SAGA_COMPENSATIONS as readonly string[]).includes(name)) throw new InvalidArgumentError(`one of: ${ORDER_SAGA_COMPENSATIONS.join(', ')}`);
  return name;
}

/** The saga's own limit on an operator's reason (workflows/saga/operator.ts), checked here before connecting. */
export const MAX_REASON_LENGTH = 500;

/**
 * `--reason TEXT` of `dead-letters resolve`: what was done by hand; recorded with the dead letter. Checked by the
 * command before it connects rather than by commander, whose message would echo the (long, multi-line) value.
 */
export function checkReason(value: string): string {
  const reason = value.trim();
  const refuse = (why: string) => new CliError(`--reason ${why}`, EXIT.USAGE, 'usage');
  if (!reason) throw refuse('must not be empty: say what was done by hand');
  if (reason.length > MAX_REASON_LENGTH) throw refuse(`is ${reason.length} characters long; at most ${MAX_REASON_LENGTH}`);
  if (hasControlCharacters(reason)) throw refuse('must not contain control characters (newlines, tabs, ...): one line of text');
  return reason;
}

/** A fresh order id when --order is not given: `ord-` and 8 hex digits. */
export function generateOrderId(): string {
  return `ord-${randomBytes(4).toString('hex')}`;
}

/** --error-type: a failure type as the saga records it (ServiceUnavailable, insufficient_stock, ...). */
export function parseErrorType(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(value)) throw new InvalidArgumentError('an error type is a name such as ServiceUnavailable or insufficient_stock');
  return value;
}
