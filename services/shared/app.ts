import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import type { Logger } from 'pino';
import { requireBearerToken } from './auth';
import { HttpError, NotFoundError, toClientError } from './errors';
import { faultInjection } from './faults';
import { cachedProbe } from './health-probe';
import { requestLog } from './request-log';

/** Request bodies are small JSON documents; anything larger is refused before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

/** How long GET /health answers from the last probe of the service's health before it probes again. */
export const HEALTH_PROBE_INTERVAL_MS = 1_000;

export interface ServiceAppOptions {
  name: string;
  logger: Logger;
  faultInjection: boolean;
  /** The orchestrator's bearer token: reads and writes (auth.ts). */
  authToken: string;
  /** A read-only bearer token for dashboards and tools, if any (auth.ts). */
  readToken?: string;
  /** The service's business routes. */
  router: Router;
  /**
   * Throws when the service cannot do its job (e.g. its database is unreachable). Runs at most once per
   * HEALTH_PROBE_INTERVAL_MS, however often /health is asked (health-probe.ts).
   */
  healthCheck: () => Promise<void>;
  /** Records each request in the service's metrics (metrics.ts). */
  metrics?: RequestHandler;
}

/**
 * The frame every service shares: request logging, the bearer token on mutating requests, JSON parsing with a size
 * limit, health, fault injection, and one error handler at the end that turns thrown errors into the contract's JSON
 * error bodies.
 */
export function createServiceApp(options: ServiceAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (options.metrics) app.use(options.metrics);
  // One line per request at debug (LOG_LEVEL=debug), a 5xx a warning at any level; never the credential.
  app.use(requestLog(app, options.logger));
  // Health is open (load balancers, compose healthchecks); it says nothing but "ok", or 503 (why goes to the log).
  const healthy = cachedProbe(
    () =>
      options.healthCheck().catch((err: unknown) => {
        options.logger.warn({ err }, 'health probe failed');
        throw err;
      }),
    HEALTH_PROBE_INTERVAL_MS,
  );
  app.get('/health', async (_req, res) => {
    if (await healthy()) {
      res.json({ service: options.name, status: 'ok' });
      return;
    }
    res
      .status(503)
      .json(new HttpError(503, 'unavailable', `${options.name} cannot do its job now; retry later`).toBody());
  });
  // Before the body parser and fault injection: a stranger's body is never parsed, nor can a stranger inject faults.
  app.use(requireBearerToken({ write: options.authToken, read: options.readToken }));
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));

  app.use(faultInjection({ enabled: options.faultInjection, logger: options.logger }));
  app.use(options.router);

  app.use((req) => {
    throw new NotFoundError('route_not_found', `no route for ${req.method} ${req.path}`);
  });

  const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
    const known = toClientError(err, { maxBodyBytes: MAX_BODY_BYTES });
    if (known) {
      req.log.info({ status: known.status, code: known.code }, known.message);
      if (known.headers) res.set(known.headers);
      res.status(known.status).json(known.toBody());
      return;
    }
    req.log.error({ err }, 'unhandled error');
    res.status(500).json(new HttpError(500, 'internal_error', 'internal error; retry later').toBody());
  };
  app.use(errorHandler);
  return app;
}
