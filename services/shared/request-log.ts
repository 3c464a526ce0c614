import type { Express, Request, RequestHandler } from 'express';
import pino, { type Level, type Logger } from 'pino';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- express's own way to type what a middleware adds
  namespace Express {
    interface Request {
      /** This request's number in the process, in every line logged for it (`reqId`). */
      id: number;
      /** The service's logger with this request's `reqId`. */
      log: Logger;
    }
  }
}

/**
 * One log line per request, the line pino-http wrote ("request completed" with `req`, `res`, `responseTime`, the
 * bearer token redacted): debug for an answer, warn for a 5xx, so at the default level (info) a service logs its
 * failures and not every call. `req.log` is the logger with the request's `reqId` for whatever else the request logs
 * (the error handler).
 *
 * WHY not pino-http: it builds two child loggers per request and serialises the request into one of them (the
 * redaction included) before anything is known about the line, which at info it never writes: about a tenth of a
 * service call's CPU. Here the line is built only when its level is enabled, and the child logger only when asked for.
 */
export function requestLog(app: Express, logger: Logger): RequestHandler {
  const childLoggers = new WeakMap<Request, Logger>();
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: Request): Logger {
      let child = childLoggers.get(this);
      if (!child) childLoggers.set(this, (child = logger.child({ reqId: this.id })));
      return child;
    },
  });
  let lastId = 0;
  return (req, res, next) => {
    req.id = ++lastId;
    const startedAt = Date.now();
    // A response emits 'close' once, after it went out or when the client went away first.
    res.once('close', () => {
      const level: Level = res.statusCode >= 500 ? 'warn' : 'debug';
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        req: serializeRequest(req),
        res: pino.stdSerializers.res(res),
        responseTime: Date.now() - startedAt,
      };
      req.log[level](line, level === 'warn' ? 'request errored' : 'request completed');
    });
    next();
  };
}

/** pino's standard request fields, the credential redacted. */
function serializeRequest(req: Request) {
  const serialized = pino.stdSerializers.req(req);
  if (serialized.headers.authorization !== undefined) {
    serialized.headers = { ...serialized.headers, authorization: '[redacted]' };
  }
  return serialized;
}
