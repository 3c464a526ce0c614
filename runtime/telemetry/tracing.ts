import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';

/**
 * OpenTelemetry tracing for every process of the stack: one saga is one trace, from the client's start through the
 * workflow, each step and compensation activity, the HTTP call into the service, its express handler and its SQL.
 *
 * On only when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; spans then go there over
 * OTLP/HTTP (JSON). Off, nothing of the OpenTelemetry SDK is even loaded: the modules are required lazily here,
 * the Temporal interceptors are not installed, and the instrumented libraries stay unpatched.
 *
 * startTracing() must run before express and pg are loaded (their instrumentation patches them on require): entry
 * points import './register' (which calls it) as their first import.
 */
interface Tracing {
  resource: Resource;
  processor: SpanProcessor;
  shutdown(): Promise<void>;
}

let tracing: Tracing | undefined;

export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** Paths no one wants a trace of: probes and scrapes. */
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

/** Starts tracing for this process (idempotent); `serviceName` is the resource's service.name unless OTEL_SERVICE_NAME says otherwise. */
export function startTracing(serviceName = 'order-saga'): boolean {
  if (tracing) return true;
  if (!tracingEnabled()) return false;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeTracerProvider } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { Resource } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { UndiciInstrumentation } =
    require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME?.trim() || serviceName });
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces) and OTEL_EXPORTER_OTLP_HEADERS itself.
  const processor = new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register(); // AsyncLocalStorage context manager + W3C trace context propagation
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]),
      }),
      new UndiciInstrumentation(),
      // Middleware layers (json parser, auth, logger...) would be a dozen spans per request saying little; the
      // router and the handler are kept.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      // Only SQL that belongs to a request: start-up migrations and pool housekeeping make no traces of their own.
      new PgInstrumentation({ requireParentSpan: true, enhancedDatabaseReporting: false }),
    ],
  });
  tracing = { resource, processor, shutdown: () => provider.shutdown() };
  return true;
}

/** Sends the spans still buffered; call before a short-lived process (the CLI) exits. */
export async function flushTracing(): Promise<void> {
  await tracing?.processor.forceFlush().catch(() => undefined);
}

export async function stopTracing(): Promise<void> {
  await tracing?.shutdown().catch(() => undefined);
  tracing = undefined;
}

/** The Temporal client's tracing interceptor (a span per start, signal, query, update; context sent in headers). */
export function clientTracingInterceptors(): { workflow: WorkflowClientInterceptor[] } | undefined {
  if (!tracing) return undefined;
  const { OpenTelemetryWorkflowClientInterceptor } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on
    require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The worker's interceptors and sinks with tracing added (unchanged when tracing is off): the workflow interceptors
 * (bundled into the workflow code; spans made in the workflow sandbox leave it through the `exporter` sink, never
 * during replay) and the activity interceptors (a span per attempt, the active context for the HTTP client's span).
 * With a prebuilt bundle the workflow interceptors must already be in it (the worker ignores them otherwise).
 */
export function withWorkerTracing(
  interceptors: NonNullable<WorkerOptions['interceptors']>,
  options: { prebuiltBundle: boolean },
): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!tracing) return { interceptors };
  const otel =
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on
    require('@temporalio/interceptors-opentelemetry') as typeof import('@temporalio/interceptors-opentelemetry');
  const activity: NonNullable<NonNullable<WorkerOptions['interceptors']>['activity']>[number] = (ctx) => ({
    inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx),
    outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
  });
  return {
    interceptors: {
      ...interceptors,
      // Outermost, so the activity's span covers the other interceptors too.
      activity: [activity, ...(interceptors.activity ?? [])],
      ...(!options.prebuiltBundle && {
        workflowModules: [...(interceptors.workflowModules ?? []), TRACING_WORKFLOW_INTERCEPTORS],
      }),
    },
    sinks: { exporter: otel.makeWorkflowExporter(tracing.processor, tracing.resource) },
  };
}

/** The tracing interceptors' workflow module, for a bundle built ahead of the worker. */
export const TRACING_WORKFLOW_INTERCEPTORS =
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
