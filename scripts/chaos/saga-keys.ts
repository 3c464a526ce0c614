/**
 * The idempotency keys a saga's requests carry (activities/saga-call.ts): `<saga id>:<first run id>:<activity>`, with
 * `:<suffix>` for several calls of one activity (the dead-letter log's), where the first run id names the saga's run
 * chain; a request scheduled before the run id was part of the key has `<saga id>:<activity>`. The checkers compare
 * keys by saga and activity, so they read them without the run id.
 */
const RUN_ID = /:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=:)/;

/** The key without its run id: `<saga id>:<activity>[:<suffix>]`. */
export function withoutRunId(key: string): string {
  return key.replace(RUN_ID, '');
}
