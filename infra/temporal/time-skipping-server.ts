import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SAGA_STATUS, SagaClient } from 'temporal-saga-kit/client';
import { requireTestServer } from './binary';

/**
 * Temporal's time-skipping test server, with SagaStatus registered and a client that carries a start's fault plan
 * (the kit's client interceptor). Its client skips time while a test awaits a workflow's result.
 */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: await requireTestServer() } },
    client: { interceptors: SagaClient.interceptors },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: { [SAGA_STATUS.name]: encodeSearchAttributeIndexedValueType(SAGA_STATUS.type)! },
  });
  return env;
}
