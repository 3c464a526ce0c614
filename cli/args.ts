import { InvalidArgumentError } from 'commander';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import type { FaultPlan } from 'temporal-saga-kit/client';
import type { SagaStatus } from '../workflows/saga-types';
import { findSaga, SAGA_LIST } from '../workflows/sagas';
import { parseFaultSpec } from '../services/shared/fault-spec';
import { parseReason } from '../services/shared/fields';
import { CliError, EXIT } from './errors';

/**
 * Commander argument parsers: each turns one option value into its typed form or throws InvalidArgumentError,
 * which commander reports as a usage error (exit 64). A saga's input as a whole is then checked by the saga
 * client (checkSagaRequest) before anything connects. Each saga's own input options are in cli/sagas/.
 */

/** `--fault ACTION=SPEC`, repeatable, for one saga: ACTION is one of its steps or compensations (a typo is exit 64). */
export function faultParser(saga: SagaDefinition) {
  return (value: string, previous: FaultPlan | undefined): FaultPlan => {
    const at = value.indexOf('=');
    const action = value.slice(0, at).trim();
    const spec = value.slice(at + 1).trim();
    if (at < 0 || !spec)
      throw new InvalidArgumentError(`expected ACTION=SPEC, e.g. ${saga.meta.stepNames.at(-1)}=reject`);
    if (!(saga.meta.actions as readonly string[]).includes(action)) {
      throw new InvalidArgumentError(
        `unknown action "${action}" of the ${saga.name} saga; one of: ${saga.meta.actions.join(', ')}`,
      );
    }
    // Two faults for one action are combined (`transient:2` + `delay:500`).
    const combined = previous?.[action] ? `${previous[action]},${spec}` : spec;
    // The services' own grammar and bounds (services/shared/fault-spec.ts): what they would refuse never starts a saga.
    try {
      parseFaultSpec(combined);
    } catch (err) {
      throw new InvalidArgumentError(`${action}: ${(err as Error).message}`);
    }
    return { ...previous, [action]: combined };
  };
}

export const SAGA_STATUSES = [
  'RUNNING',
  'COMMITTED',
  'COMPLETED',
  'COMPENSATING',
  'NEEDS_ATTENTION',
  'COMPENSATED',
  'COMPENSATION_FAILED',
  'RECOVERING',
] as const satisfies readonly SagaStatus[];

export function parseSagaStatus(value: string): SagaStatus {
  const status = value.trim().toUpperCase() as SagaStatus;
  if (!SAGA_STATUSES.includes(status)) throw new InvalidArgumentError(`one of: ${SAGA_STATUSES.join(', ')}`);
  return status;
}

/** A duration as Temporal takes it: a whole number with a unit, "90s", "10m", "2h", "1d". */
export function parseDuration(value: string): string {
  const v = value.trim();
  if (!/^\d+(ms|s|m|h|d)$/.test(v) || Number.parseInt(v, 10) === 0)
    throw new InvalidArgumentError('a whole number above 0 with a unit: ms, s, m, h or d (e.g. 10m)');
  return v;
}

/** A parser for a whole number from 1 to `max`. */
export const wholeNumberUpTo =
  (max: number) =>
  (value: string): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max)
      throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    return Number(value);
  };

export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 1000)
    throw new InvalidArgumentError('a whole number from 1 to 1000');
  return Number(value);
}

/**
 * What `--compensation` may name: every registered saga's compensations, and its steps after the pivot (they wait for
 * an operator the same way). The saga itself checks that the one named is its own and waits.
 */
const ALL_COMPENSATIONS = [
  ...new Set(
    SAGA_LIST.flatMap((s) => [
      ...(s.meta.compensationNames as readonly string[]),
      ...s.meta.steps.filter((m) => m.kind === 'retriable').map((m) => m.name as string),
    ]),
  ),
];

/** `--compensation NAME` of the dead-letter commands: one of the sagas' dead-letterable actions. */
export function parseCompensation(value: string): string {
  const name = value.trim();
  if (!ALL_COMPENSATIONS.includes(name)) throw new InvalidArgumentError(`one of: ${ALL_COMPENSATIONS.join(', ')}`);
  return name;
}

/** `--saga NAME`: one of the registered sagas. */
export function parseSagaName(value: string): SagaDefinition {
  const saga = findSaga(value.trim());
  if (!saga)
    throw new InvalidArgumentError(`unknown saga "${value}"; one of: ${SAGA_LIST.map((s) => s.name).join(', ')}`);
  return saga;
}

/**
 * `--reason TEXT` of `dead-letters resolve`: what was done by hand; recorded with the dead letter. The saga's own rule
 * (parseReason), checked by the command before it connects rather than by commander, whose message would echo the
 * (long, multi-line) value.
 */
export function checkReason(value: string): string {
  const parsed = parseReason(value);
  if ('problem' in parsed) throw new CliError(`--reason ${parsed.problem}`, EXIT.USAGE, 'usage');
  return parsed.reason;
}

/** --error-type: a failure type as the saga records it (ServiceUnavailable, insufficient_stock, ...). */
export function parseErrorType(value: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(value))
    throw new InvalidArgumentError('an error type is a name such as ServiceUnavailable or insufficient_stock');
  return value;
}
