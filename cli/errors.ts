import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isGrpcServiceError, NamespaceNotFoundError, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { ConfigError } from '../runtime/config';
import {
  OperatorDecisionRefusedError,
  SagaAlreadyStartedError,
  SagaInputError,
  type CancelOutcome,
} from './saga-client';

/** The CLI's exit codes (sysexits.h where one fits). */
export const EXIT = {
  OK: 0,
  /** The saga failed (compensation failed), no saga for that order, or another error the user has to look at. */
  FAILED: 1,
  /** cancel refused: the saga is at or past its pivot and goes forward (cli/cancel-answer.ts). */
  CANCEL_REFUSED: 2,
  /** An operator's decision (dead-letters retry/resolve) refused: nothing waits, or not that compensation. Same code as a refused cancel. */
  DECISION_REFUSED: 2,
  /** cancel had nothing to do: the saga already ended, or is already compensating (also while it waits for an operator). */
  NOTHING_TO_CANCEL: 3,
  /** The saga has not ended: a compensation is dead-lettered and it waits for an operator (dead-letters retry/resolve). */
  NEEDS_ATTENTION: 4,
  /** EX_USAGE: bad arguments or configuration; nothing was started. */
  USAGE: 64,
  /** EX_UNAVAILABLE: the Temporal server cannot be reached. */
  UNAVAILABLE: 69,
  /** EX_NOPERM: the Temporal server refused the call for this client's certificate (its role may not do it). */
  PERMISSION_DENIED: 77,
  /** EX_SOFTWARE: an unexpected error (a bug): the only case that prints a stack trace. */
  INTERNAL: 70,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0   success (result: the saga approved, rejected or was cancelled)
  1   the saga failed (a compensation did not succeed), no saga for that order, or the order id is taken
  2   refused: cancel at or past the pivot (the payment is being or was charged), or a dead-letters retry/resolve
      the saga cannot take (no compensation waits for an operator, or not the one named)
  3   cancel had nothing to do: the saga already ended, or is already compensating (also while it waits for an
      operator: NEEDS_ATTENTION)
  4   the saga waits for an operator: a compensation is dead-lettered (see dead-letters list)
  64  bad arguments (nothing was started)
  69  the Temporal server cannot be reached
  77  permission denied: the role of the client certificate (TEMPORAL_TLS_CERT_PATH) may not do this`;

export type ErrorKind =
  'usage' | 'unavailable' | 'permission-denied' | 'not-found' | 'already-exists' | 'refused' | 'failed' | 'internal';

/** An error the CLI expects: printed as one line, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly kind: ErrorKind,
  ) {
    super(message);
  }
}

const GRPC_UNAVAILABLE = 14;
const GRPC_PERMISSION_DENIED = 7;

export function unreachable(address: string): CliError {
  return new CliError(
    `cannot reach the Temporal server at ${address} (set TEMPORAL_ADDRESS or --address)`,
    EXIT.UNAVAILABLE,
    'unavailable',
  );
}

/** The gRPC status code of an SDK error, looking through the SDK's ServiceError wrappers. */
function grpcCode(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return err.code;
  if (err instanceof ServiceError) return grpcCode(err.cause);
  return undefined;
}

/** The certificate file and its subject's common name (its role), for a message: `reader.crt (CN reader)`. */
export function certificateName(file: string): string {
  try {
    const cn = /^CN=(.*)$/m.exec(new X509Certificate(readFileSync(file)).subject)?.[1];
    return cn ? `${file} (CN ${cn})` : file;
  } catch {
    return file; // already checked when the configuration was read; a file changed since is named as it is
  }
}

/**
 * A call the server's authorizer refused: the certificate's role (infra/temporal/cluster/server/roles.go) may not do
 * it. The server says no more than "Request unauthorized." to the caller; the CLI names the certificate it used.
 */
export function permissionDenied(certificate: string | undefined): CliError {
  return new CliError(
    `permission denied: the Temporal server refused this ${certificate ? `for the client certificate ${certificate}` : 'without a client certificate'} (its role may not do it; see docs/operating.md, "Who may do what")`,
    EXIT.PERMISSION_DENIED,
    'permission-denied',
  );
}

/** Maps what the saga client and the Temporal SDK throw to what the user is told, and the exit code. */
export function toCliError(
  err: unknown,
  context: { address?: string; namespace?: string; certificate?: string },
): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof SagaInputError) return new CliError(err.message, EXIT.USAGE, 'usage');
  if (err instanceof ConfigError) return new CliError(err.message, EXIT.USAGE, 'usage');
  if (err instanceof OperatorDecisionRefusedError)
    return new CliError(`refused: ${err.message}`, EXIT.DECISION_REFUSED, 'refused');
  if (err instanceof SagaAlreadyStartedError) return new CliError(err.message, EXIT.FAILED, 'already-exists');
  if (err instanceof WorkflowNotFoundError)
    return new CliError(`no saga with id ${err.workflowId}`, EXIT.FAILED, 'not-found');
  if (err instanceof NamespaceNotFoundError) {
    return new CliError(
      `namespace ${err.namespace} does not exist on the Temporal server at ${context.address} (set TEMPORAL_NAMESPACE or --namespace)`,
      EXIT.USAGE,
      'usage',
    );
  }
  if (grpcCode(err) === GRPC_UNAVAILABLE) return unreachable(context.address ?? 'the configured address');
  if (grpcCode(err) === GRPC_PERMISSION_DENIED) return permissionDenied(context.certificate);
  const message = err instanceof Error ? err.message : String(err);
  return new CliError(`unexpected error: ${message}`, EXIT.INTERNAL, 'internal');
}

/** A cancel the saga's state refused (SagaClient.cancel), by kind. */
type CancelRefusal = Extract<CancelOutcome, { cancelled: false }>['refusal'];

/**
 * The exit code of a refused cancel: 2 when the saga goes forward instead (at or past its pivot), 3 when there is
 * nothing to cancel (it ended, or it is already compensating, also while it waits for an operator).
 */
export function cancelRefusalExitCode(refusal: CancelRefusal): number {
  return refusal === 'at-pivot' || refusal === 'past-pivot' ? EXIT.CANCEL_REFUSED : EXIT.NOTHING_TO_CANCEL;
}
