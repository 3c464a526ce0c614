/**
 * Imported first by every entry point (worker, services, CLI, `npm start`): tracing has to be set up before express
 * and pg are loaded, so that their instrumentation can patch them. Does nothing unless OTEL_EXPORTER_OTLP_ENDPOINT
 * is set (see tracing.ts).
 */
import path from 'node:path';
import { startTracing } from './tracing';

/** service.name unless OTEL_SERVICE_NAME is set: services/orders/main.ts → orders, worker.ts → worker, client.ts → client. */
function entryName(): string {
  const entry = process.argv[1] ?? 'order-saga';
  const base = path.basename(entry).replace(/\.[cm]?[jt]s$/, '');
  if (base === 'main') return path.basename(path.dirname(entry));
  return base.replace(/-process-main$/, '');
}

startTracing(entryName());
