/** What order saga tests start sagas with: a shipping address, and retries fast enough for failure paths. */

/** A valid destination (Ada Lovelace's, in Berlin unless another country is asked for). */
export const destination = (country = 'DE') => ({
  recipient: 'Ada Lovelace',
  line1: '1 Main Street',
  city: 'Berlin',
  postalCode: '10115',
  country,
});

/** Short back-off so failure paths take milliseconds, not the production defaults' seconds. */
export const FAST_RETRIES = {
  stepRetry: { initialInterval: '50ms', maximumInterval: '200ms' },
  compensationRetry: { initialInterval: '50ms', maximumInterval: '200ms' },
};
