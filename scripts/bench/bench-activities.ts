/**
 * Bench-only activities: `noop` does nothing, so a workflow of no-op activities measures Temporal's own cost per
 * activity (scheduling, dispatch, history writes, workflow tasks) — the floor the order saga is compared against.
 */
export function createBenchActivities() {
  return {
    async noop(): Promise<void> {},
  };
}

export type BenchActivities = ReturnType<typeof createBenchActivities>;
