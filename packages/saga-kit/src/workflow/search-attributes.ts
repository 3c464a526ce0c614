import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes the saga keeps up to date, so the web UI's workflow list (and `client.ts list`) can filter
 * sagas by outcome, e.g. `SagaStatus = "COMPENSATED"`. They must be registered on the server: the dev server
 * launcher does it at start-up; on another cluster, `temporal operator search-attribute create`.
 */
export const SAGA_STATUS = defineSearchAttributeKey('SagaStatus', SearchAttributeType.KEYWORD);

/** Name → type, in the form `temporal server start-dev --search-attribute` takes. */
export const SAGA_SEARCH_ATTRIBUTES = { SagaStatus: 'Keyword' } as const;
