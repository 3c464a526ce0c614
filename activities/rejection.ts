import type { StepFailure } from 'temporal-saga-kit/workflow';
import { isBusinessRejectionDetail } from '../services/shared/error-contract';

/**
 * The classification both sagas give the kit (its `wroteNothing` option): our services' error contract guarantees
 * that a request answered with a business rejection (a 4xx, carried in the activity failure's details) wrote nothing.
 * Pure and free of I/O, so workflow code may import it; it lives beside the activities because they are what turns
 * the services' answers into those failure details.
 */
export function serviceRejectionWroteNothing(failure: StepFailure): boolean {
  return failure.details.some(isBusinessRejectionDetail);
}
