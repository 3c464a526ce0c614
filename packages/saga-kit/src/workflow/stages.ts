import type { CompensationContext, SagaStep } from './types';

/** A saga's shape, checked once where it is defined and again when it runs: the kinds' order, the pivot, the groups. */
export function validateSteps(steps: SagaStep[]): void {
  const pivots = steps.filter((s) => s.kind === 'pivot');
  if (pivots.length > 1) throw new Error('a saga has at most one pivot step');
  const pivotIndex = steps.findIndex((s) => s.kind === 'pivot');
  steps.forEach((step, i) => {
    if (step.kind === 'compensatable' && !step.compensate)
      throw new Error(`compensatable step ${step.name} needs a compensation`);
    if (step.kind === 'compensatable' && pivotIndex >= 0 && i > pivotIndex)
      throw new Error(`compensatable step ${step.name} comes after the pivot`);
    if (step.kind === 'retriable' && step.compensate)
      throw new Error(`retriable step ${step.name} must not have a compensation`);
    if (step.kind === 'retriable' && (pivotIndex < 0 || i < pivotIndex))
      throw new Error(`retriable step ${step.name} must come after the pivot`);
  });
  if (new Set(steps.map((s) => s.name)).size !== steps.length) throw new Error('step names must be unique');
  for (const members of groupsOf(steps).filter((g) => g.length > 1 || g[0].group !== undefined)) {
    const group = members[0].group;
    if (members.length < 2) throw new Error(`parallel group ${group} needs at least two steps`);
    if (steps.filter((s) => s.group === group).length !== members.length)
      throw new Error(`the steps of parallel group ${group} must be consecutive`);
    // (Mixed kinds are refused above: a retriable member must follow the pivot, a compensatable one precede it.)
    if (members.some((m) => m.kind === 'pivot')) throw new Error(`the pivot cannot run in a parallel group (${group})`);
  }
}

/** The steps in stages: each parallel group is one stage, every other step a stage of its own. */
export function groupsOf<T extends { group?: string }>(steps: readonly T[]): T[][] {
  const stages: T[][] = [];
  for (const step of steps) {
    const last = stages.at(-1);
    if (step.group !== undefined && last?.[0].group === step.group) last.push(step);
    else stages.push([step]);
  }
  return stages;
}

/** The name of a step's compensation for this cause (a step may have alternatives chosen by why the saga unwinds). */
export function compensationName(step: SagaStep, context: CompensationContext): string {
  if (typeof step.compensationName === 'function') return step.compensationName(context);
  return step.compensationName ?? `compensate-${step.name}`;
}
