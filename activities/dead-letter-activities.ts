import { DEAD_LETTER_TEXT_LIMITS, type DeadLetterRecord } from '../services/shared/dead-letters';
import { withoutControlCharacters } from '../services/shared/fields';
import type { DeadLetterActivities } from '../workflows/saga';
import { sagaCallOptions, sagaServiceClient } from './saga-call';
import type { ServiceClient } from './service-client';

/**
 * The activities the saga kit calls itself when a compensation is dead-lettered (DeadLetterActivities), for every
 * saga: the dead-letter log lives with the orders service (see services/orders/dead-letters.ts).
 */
/** Error texts go into the dead-letter log's text columns: no control characters, bounded. */
function printable(text: string, max: number): string {
  const clean = withoutControlCharacters(text).trim();
  return (clean || '(no message)').slice(0, max);
}

export function createDeadLetterActivities(serviceClient: ServiceClient) {
  const client = sagaServiceClient(serviceClient);
  return {
    async recordDeadLetter(entry: Parameters<DeadLetterActivities['recordDeadLetter']>[0]): Promise<DeadLetterRecord> {
      const body = {
        ...entry,
        errorType: printable(entry.errorType, DEAD_LETTER_TEXT_LIMITS.errorType),
        lastError: printable(entry.lastError, DEAD_LETTER_TEXT_LIMITS.lastError),
      };
      return client.call('orders', 'POST', '/dead-letters', body, sagaCallOptions(`${entry.step}:${entry.round}`));
    },
    async closeDeadLetter(input: Parameters<DeadLetterActivities['closeDeadLetter']>[0]): Promise<DeadLetterRecord> {
      const path = `/dead-letters/${input.id}/${input.outcome.status === 'RETRIED' ? 'retried' : 'resolved'}`;
      const body = input.outcome.status === 'RESOLVED' ? { reason: input.outcome.resolution } : {};
      return client.call('orders', 'POST', path, body, sagaCallOptions(String(input.id)));
    },
  } satisfies DeadLetterActivities;
}
