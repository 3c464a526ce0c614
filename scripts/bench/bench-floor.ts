import { proxyActivities } from '@temporalio/workflow';
import type { BenchActivities } from './bench-activities';

/**
 * The Temporal floor of the benchmark (scripts/bench): four no-op activities in sequence, with the same
 * start-to-close timeout as the saga's steps. What the order saga costs beyond this is its own work (HTTP calls,
 * the services' transactions, more activities, search-attribute upserts).
 */
const { noop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '15s' });

export const BENCH_FLOOR_ACTIVITIES = 4;

export async function benchFloor(): Promise<number> {
  for (let i = 0; i < BENCH_FLOOR_ACTIVITIES; i++) await noop();
  return BENCH_FLOOR_ACTIVITIES;
}
