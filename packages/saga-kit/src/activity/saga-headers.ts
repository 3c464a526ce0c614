import { AsyncLocalStorage } from 'node:async_hooks';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ACTION_HEADER, FAULT_HEADER, RUN_HEADER } from '../workflow/headers';

/**
 * The activity side of the kit's headers (../workflow/headers.ts): while an activity runs, the saga action it
 * serves and the fault planned for it are available here, so fault injection never appears in an activity's
 * arguments. Register sagaHeadersInterceptor in the worker's `interceptors.activity`.
 */
export interface SagaActivityHeaders {
  /** The first run id of the saga's run chain (absent on an activity scheduled before the kit sent it). */
  run?: string;
  action?: string;
  fault?: string;
}

const current = new AsyncLocalStorage<SagaActivityHeaders>();

export const sagaHeadersInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    execute: (input, next) => {
      const read = (name: string) =>
        input.headers[name] ? defaultPayloadConverter.fromPayload<string>(input.headers[name]) : undefined;
      return current.run({ run: read(RUN_HEADER), action: read(ACTION_HEADER), fault: read(FAULT_HEADER) }, () =>
        next(input),
      );
    },
  },
});

/** The running activity's saga headers (empty outside an activity, or for one not scheduled by a saga). */
export function sagaActivityHeaders(): SagaActivityHeaders {
  return current.getStore() ?? {};
}
