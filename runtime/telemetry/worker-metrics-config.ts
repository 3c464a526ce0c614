import { z } from 'zod';
import { DEFAULT_WORKER_METRICS_PORT } from '../../services/catalog';
import { parseConfig } from '../../services/shared/config';

/**
 * WORKER_METRICS_ADDRESS: host:port where the worker serves GET /metrics (default 127.0.0.1:9464; 0.0.0.0:9464 in
 * compose, for Prometheus); port 0: a free port; `off` serves none.
 */
export function loadWorkerMetricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { WORKER_METRICS_ADDRESS } = parseConfig(
    z.object({
      WORKER_METRICS_ADDRESS: z
        .string()
        .trim()
        .regex(/^(off|[^\s:]+:\d{1,5})$/, 'must be host:port or off')
        .default(`127.0.0.1:${DEFAULT_WORKER_METRICS_PORT}`),
    }),
    env,
    'invalid worker configuration',
  );
  return WORKER_METRICS_ADDRESS === 'off' ? undefined : WORKER_METRICS_ADDRESS;
}

/**
 * What a worker does when its metrics port is taken. Unset, the default port is likely held by another worker on
 * this host (`npm start`'s, when a team adds workers to it): take a free port and say which. Set, the address is
 * what someone's Prometheus scrapes: refuse to start rather than serve where nobody looks.
 */
export function workerMetricsPortTaken(env: NodeJS.ProcessEnv = process.env): 'fail' | 'free-port' {
  return env.WORKER_METRICS_ADDRESS === undefined ? 'free-port' : 'fail';
}
