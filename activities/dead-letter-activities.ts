import type { DeadLetterPort } from 'temporal-saga-kit/activity';
import { DEAD_LETTER_TEXT_LIMITS, type DeadLetterRecord } from '../services/shared/dead-letters';
import { withoutControlCharacters } from '../services/shared/fields';
import { sagaCallOptions, sagaServiceClient } from './service-call';
import type { ServiceClient } from './service-client';

/**
 * This app's dead-letter port (the kit's DeadLetterPort, plugged in at the worker): the log lives with the orders
 * service (services/orders/dead-letters.ts), for every saga. Its calls run as the kit's dead-letter activities.
 */
/** Error texts go into the dead-letter log's text columns: no control characters, bounded. */
function printable(text: string, max: number): string {
  const clean = withoutControlCharacters(text).trim();
  return (clean || '(no message)').slice(0, max);
}

export function createDeadLetterPort(serviceClient: ServiceClient): DeadLetterPort {
  const client = sagaServiceClient(serviceClient);
  return {
    async record(entry): Promise<DeadLetterRecord> {
      const body = {
        ...entry,
        errorType: printable(entry.errorType, DEAD_LETTER_TEXT_LIMITS.errorType),
        lastError: printable(entry.lastError, DEAD_LETTER_TEXT_LIMITS.lastError),
      };
      return client.call('orders', 'POST', '/dead-letters', body, sagaCallOptions(`${entry.step}:${entry.round}`));
    },
    async resolve(id, outcome): Promise<DeadLetterRecord> {
      const path = `/dead-letters/${id}/${outcome.status === 'RETRIED' ? 'retried' : 'resolved'}`;
      const body = outcome.status === 'RESOLVED' ? { reason: outcome.resolution } : {};
      return client.call('orders', 'POST', path, body, sagaCallOptions(String(id)));
    },
  };
}
