import { InvalidArgumentError, type Command } from 'commander';
import type { SagaDefinition } from 'temporal-saga-kit/workflow';
import type { InputOf } from '../../workflows/saga-types';

/**
 * How the CLI starts one saga and shows its data: the saga's own input options for `start <saga>`, the input they
 * make, and the facts `status`/`result` print from its data. A saga without one gets genericAdapter (`--input JSON`).
 */
export interface SagaCliAdapter<S extends SagaDefinition = SagaDefinition> {
  saga: S;
  /** Adds the saga's input options to its start command. */
  options(command: Command): Command;
  /** The saga's input from the parsed options (checked afterwards by the saga client against the saga's schema). */
  input(options: Record<string, unknown>): InputOf<S>;
  /** Facts about a saga's data for `status` and `result`, e.g. "total 89.00". */
  facts?(data: Record<string, unknown>): string[];
  examples?: string;
}

function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError('expected a JSON object');
  return parsed as Record<string, unknown>;
}

/** Any saga: its input as one JSON object, checked against the saga's schema before anything connects. */
export function genericAdapter<S extends SagaDefinition>(saga: S): SagaCliAdapter<S> {
  return {
    saga,
    options: (command) =>
      command.requiredOption('--input <json>', `the ${saga.name} saga's input, as a JSON object`, parseJsonObject),
    input: (options) => options.input as InputOf<S>,
  };
}
