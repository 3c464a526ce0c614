/**
 * The floor of one service call, run inside the services' process (an extension of infra/processes/services-process.ts,
 * so its CPU counts as the services'): the services' own app frame (request log, bearer token, JSON body, error
 * handler) with one route, POST /floor, that makes one PostgreSQL round trip the way a request function does (the
 * service's pool, a named prepared statement: sql`SELECT 1`) and answers a small JSON body. What a real call costs
 * beyond it is its own work.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { Router } from 'express';
import type { ServicesExtensionFactory } from '../../infra/processes/services-process';
import { createServiceApp } from '../../services/shared/app';
import { createLogger } from '../../services/shared/logger';
import { sql } from '../../services/shared/request-functions';

export const extendServices: ServicesExtensionFactory = async ({ services, authToken }) => {
  const service = services[0];
  const router = Router();
  router.post('/floor', async (_req, res) => {
    await service.db.requestPool.query(sql`SELECT 1`);
    res.status(201).json({ ok: true });
  });
  const app = createServiceApp({
    name: 'floor',
    logger: createLogger('floor', 'warn'),
    faultInjection: false,
    authToken,
    router,
    healthCheck: async () => undefined,
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    ready: { floorUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
