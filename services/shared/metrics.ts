import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * A service's Prometheus metrics: its HTTP requests (a latency histogram by method, route and status: the count of
 * requests is its _count), the Node.js process (CPU, memory, event loop lag), and whatever the service adds (the
 * orders service: dead letters waiting for an operator).
 *
 * One registry per service, not prom-client's global one: tests and `npm start` run several services in one
 * process. They are served on a port of their own (<SERVICE>_METRICS_PORT), not on the business port: Prometheus
 * needs no credential and no route through the service's authentication, the worker's metrics (served by the
 * Temporal SDK, which cannot check a token) are scraped the same way, and the port is closed to everything but the
 * monitoring network in a deployment (compose publishes none of them).
 */
export interface ServiceMetrics {
  registry: Registry;
  /** Times every request; the route is the matched pattern (/orders/:id), never the raw path, to bound the series. */
  httpMiddleware: RequestHandler;
}

export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests handled by the service, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.once('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  };
  return { registry, httpMiddleware };
}

/** Serves GET /metrics from the registry on its own port; resolves once listening. */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  server.listen(port, host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? new Error(`metrics port ${port} is already in use`)
        : err;
    }),
  ]);
  return { server, url: `http://${host}:${(server.address() as { port: number }).port}/metrics` };
}
