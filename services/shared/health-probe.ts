/**
 * A health probe answered from cache. GET /health is open to anyone (load balancers, compose healthchecks): if every
 * request ran the check (a query on the service's database pool), a flood of health checks would take the connections
 * the saga's requests need. Here the check runs at most once per interval; requests that arrive while it runs share
 * it, and requests within the interval after it get its answer.
 */
export function cachedProbe(check: () => Promise<void>, intervalMs: number): () => Promise<boolean> {
  let inFlight: Promise<boolean> | undefined;
  let last: { healthy: boolean; at: number } | undefined;
  return () => {
    if (last && Date.now() - last.at < intervalMs) return Promise.resolve(last.healthy);
    inFlight ??= check()
      .then(
        () => true,
        () => false,
      )
      .then((healthy) => {
        last = { healthy, at: Date.now() };
        inFlight = undefined;
        return healthy;
      });
    return inFlight;
  };
}
