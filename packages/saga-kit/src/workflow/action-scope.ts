import { CancellationScope } from '@temporalio/workflow';

/**
 * Which step or compensation an activity call serves. The kit runs every step and compensation in a cancellation
 * scope of its own and tags it here; the workflow interceptor (interceptors.ts) walks up from the current scope when
 * an activity is scheduled and puts the action's name (and its planned fault, if any) in the activity's headers.
 * Scopes emit no commands, so this changes nothing in a saga's history.
 */
const actions = new WeakMap<CancellationScope, string>();

/**
 * Runs fn in a scope tagged with the action's name: a new non-cancellable child scope, or the given (cancellable)
 * scope itself, retagged. Not a new child of that one: one more level of scopes would deliver a cancellation to the
 * step's activity a microtask later, after the deadline timer's, and change the order of the commands a cancelled
 * saga emits (its recorded histories would no longer replay).
 */
export function runAsAction<T>(
  action: string,
  scope: CancellationScope | 'non-cancellable',
  fn: () => Promise<T>,
): Promise<T> {
  const target = scope === 'non-cancellable' ? new CancellationScope({ cancellable: false }) : scope;
  actions.set(target, action);
  return target.run(fn);
}

/** The action of the innermost tagged scope around the caller, if any. */
export function currentAction(): string | undefined {
  for (let scope: CancellationScope | undefined = CancellationScope.current(); scope; scope = scope.parent) {
    const action = actions.get(scope);
    if (action !== undefined) return action;
  }
  return undefined;
}
