import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAULT_INJECTION_HEADER, IDEMPOTENCY_KEY_HEADER } from './error-contract';
import { BadRequestError, BusinessRejectionError, HttpError } from './errors';
import { FaultSpecError, parseFaultSpec, type FaultPlan } from './fault-spec';

/**
 * Fault injection for tests and demos, off by default.
 *
 * A caller asks for misbehaviour with a header, e.g. `x-fault-injection: transient:2,delay:1500`:
 *   transient:N      the first N attempts (per idempotency key and route) answer 503 before doing anything;
 *   lost-response:N  the first N attempts do the work and commit, then answer 503, as if the response were lost;
 *   reject           answer 422 (a permanent business rejection) without doing anything;
 *   delay:MS         wait MS milliseconds before handling the request (at most 60 s).
 * (Grammar and bounds: fault-spec.ts.)
 * The saga passes these through from its input, so one saga's faults never leak into another's.
 *
 * Only honoured when the service runs with fault injection enabled, which config.ts refuses in production.
 * When disabled the header is ignored, so a stray header can never break a real deployment.
 */
/** The header's grammar and bounds live in fault-spec.ts, shared with the CLI; here a bad spec is the client's 400. */
function parseFaultPlan(header: string): FaultPlan {
  try {
    return parseFaultSpec(header);
  } catch (err) {
    if (err instanceof FaultSpecError) throw new BadRequestError(`invalid ${FAULT_INJECTION_HEADER}: ${err.message}`);
    throw err;
  }
}

/** Counts attempts per (route, key) so that "fail N times" is per request, not per process. Bounded in size. */
class AttemptCounter {
  private readonly counts = new Map<string, number>();
  next(id: string): number {
    if (this.counts.size > 10_000) this.counts.clear();
    const n = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, n);
    return n;
  }
}

export function faultInjection(options: { enabled: boolean; logger: Logger }): RequestHandler {
  const transientAttempts = new AttemptCounter();
  const lostResponseAttempts = new AttemptCounter();
  return async (req, res, next) => {
    const header = req.get(FAULT_INJECTION_HEADER);
    if (!header || req.method === 'GET') return next();
    if (!options.enabled) {
      options.logger.debug({ header }, 'fault injection header ignored: fault injection is disabled');
      return next();
    }
    const plan = parseFaultPlan(header);
    const attemptId = `${req.method} ${req.path} ${req.get(IDEMPOTENCY_KEY_HEADER) ?? ''}`;
    if (plan.delayMs) await sleep(plan.delayMs);
    if (plan.reject) throw new BusinessRejectionError('injected_rejection', 'rejected by fault injection');
    if (plan.transient && transientAttempts.next(attemptId) <= plan.transient) {
      throw new HttpError(503, 'injected_transient_failure', 'transient failure injected by fault injection');
    }
    if (plan.lostResponse && lostResponseAttempts.next(attemptId) <= plan.lostResponse) {
      // Let the handler do and commit its work, then replace its answer, as a network that drops replies would.
      const json = res.json.bind(res);
      const dropped = new HttpError(
        503,
        'injected_lost_response',
        'response dropped by fault injection (the work was done)',
      );
      res.statusCode = 503;
      res.status = (() => res) as typeof res.status;
      res.json = (() => json(dropped.toBody())) as typeof res.json;
    }
    next();
  };
}
