import type { defineSaga, SagaDefinition, SagaTypes, SagaView } from 'temporal-saga-kit/workflow';

/**
 * Short names for the saga kit's types as this app reads them, derived from its public API
 * (temporal-saga-kit/workflow): types only, nothing here runs.
 */
export type SagaStatus = SagaView['status'];
export type SagaState = Omit<SagaView, 'saga' | 'key' | 'unwindPreview'>;
export type CompensationState = SagaView['compensations'][number];
export type StepMeta = SagaDefinition['meta']['steps'][number];
export type SagaDefinitionOptions = NonNullable<Parameters<typeof defineSaga>[0]['options']>;
export type InputOf<S extends SagaDefinition> = SagaTypes<S>['input'];
export type ResultOf<S extends SagaDefinition> = SagaTypes<S>['result'];
export type StepName<S extends SagaDefinition> = SagaTypes<S>['step'];
export type CompensationName<S extends SagaDefinition> = SagaTypes<S>['compensation'];
export type ActionName<S extends SagaDefinition> = SagaTypes<S>['action'];
