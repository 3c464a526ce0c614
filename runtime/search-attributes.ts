import { SAGA_STATUS } from 'temporal-saga-kit/client';

/**
 * The search attributes the saga kit keeps up to date (SagaStatus), by name and type in the form
 * `temporal server start-dev --search-attribute` and `temporal operator search-attribute create` take: every
 * server the sagas run on registers them (the dev server launcher at start-up).
 */
export const SAGA_SEARCH_ATTRIBUTES = { [SAGA_STATUS.name]: 'Keyword' } as const satisfies Record<string, string>;
