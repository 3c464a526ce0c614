import type { ServiceName } from '../catalog';
import type { ServiceConfig } from './config';
import { createLogger } from './logger';
import { startService, type ServiceDb, type ServiceDefinition } from './runtime';

/**
 * Entry point shared by every service's main.ts: load config, start, stop cleanly on SIGINT/SIGTERM, and exit
 * non-zero with a one-line reason on bad configuration or a failed start.
 */
export function runServiceMain<Db extends ServiceDb>(
  definition: ServiceDefinition<Db>,
  loadConfig: (service: ServiceName) => ServiceConfig,
): void {
  const logger = createLogger(definition.name);
  (async () => {
    const config = loadConfig(definition.name);
    logger.level = config.logLevel;
    const service = await startService(definition, config, logger);
    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await service.close();
      process.exit(0);
    };
    process.once('SIGINT', (signal) => void shutdown(signal));
    process.once('SIGTERM', (signal) => void shutdown(signal));
  })().catch((err: Error) => {
    logger.fatal(err.message);
    process.exit(1);
  });
}
