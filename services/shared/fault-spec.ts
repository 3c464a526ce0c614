/**
 * The grammar and the bounds of an injected-fault spec, written once: the services parse the `x-fault-injection`
 * header with it (faults.ts), and the CLI and the saga's input contract check `--fault ACTION=SPEC` with it before a
 * saga starts, so what one side accepts the other does too. Pure (no I/O, no imports), so the workflow bundle can use it.
 *
 *   transient:N      the first N attempts answer 503 before doing anything           1 ≤ N ≤ MAX_FAULT_TIMES
 *   lost-response:N  the first N attempts do the work, then answer 503               1 ≤ N ≤ MAX_FAULT_TIMES
 *   reject           answer 422 without doing anything
 *   delay:MS         wait MS milliseconds before handling the request                0 ≤ MS ≤ MAX_INJECTED_DELAY_MS
 * Entries combine with commas: `transient:2,delay:500`.
 */
const MAX_INJECTED_DELAY_MS = 60_000;
const MAX_FAULT_TIMES = 100;

export interface FaultPlan {
  transient?: number;
  lostResponse?: number;
  reject?: boolean;
  delayMs?: number;
}

export class FaultSpecError extends Error {
  override name = 'FaultSpecError';
}

const EXPECTED = `expected transient:N or lost-response:N (N from 1 to ${MAX_FAULT_TIMES}), reject, or delay:MS (MS from 0 to ${MAX_INJECTED_DELAY_MS})`;

/** Parses a spec; throws FaultSpecError naming the first bad entry and the bounds. */
export function parseFaultSpec(spec: string): FaultPlan {
  const plan: FaultPlan = {};
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.every((p) => !p)) throw new FaultSpecError(`empty fault spec (${EXPECTED})`);
  for (const part of parts.filter(Boolean)) {
    const [kind, arg, ...rest] = part.split(':');
    const n = arg !== undefined && /^\d{1,9}$/.test(arg) && !rest.length ? Number(arg) : NaN;
    if (kind === 'reject' && arg === undefined) plan.reject = true;
    else if (kind === 'transient' && n >= 1 && n <= MAX_FAULT_TIMES) plan.transient = n;
    else if (kind === 'lost-response' && n >= 1 && n <= MAX_FAULT_TIMES) plan.lostResponse = n;
    else if (kind === 'delay' && n >= 0 && n <= MAX_INJECTED_DELAY_MS) plan.delayMs = n;
    else throw new FaultSpecError(`invalid fault entry "${part}" (${EXPECTED})`);
  }
  return plan;
}
