import { Presets, SingleBar } from 'cli-progress';
import { orderSaga } from '../../workflows/order-saga';
import type { SagaView } from 'temporal-saga-kit/workflow';

/**
 * A progress bar on stderr while a scenario's saga runs: steps and compensations done out of those known so far,
 * and what the saga is doing now. Only on a terminal: when stderr is a pipe or a file (CI, `--json | jq`) there is
 * nobody to watch it, and redraw sequences would only litter the log.
 */
export interface Progress {
  update(state: SagaView | undefined, note?: string): void;
  /** Removes the bar, so the scenario's report starts on a clean line. */
  stop(): void;
}

export function startProgress(scenario: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar(
    {
      stream,
      format: `  {scenario} [{bar}] {value}/{total} {duration}s {activity}`,
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 1,
    },
    Presets.shades_classic,
  );
  bar.start(orderSaga.meta.steps.length, 0, { scenario, activity: 'starting' }); // the order saga's forward steps, until its state says otherwise
  return {
    update(state, note) {
      if (!state) return bar.update({ activity: note ?? 'waiting for the saga' });
      // Once compensating, the steps that never ran drop out of the total and the compensations join it, so the
      // bar still ends full.
      const compensating = state.compensations.length > 0;
      const steps = compensating ? state.steps.filter((s) => s.status !== 'PENDING') : state.steps;
      const ended = (status: string) => status !== 'PENDING' && status !== 'RUNNING';
      const done =
        steps.filter((s) => ended(s.status)).length + state.compensations.filter((c) => ended(c.status)).length;
      bar.setTotal(steps.length + state.compensations.length);
      const now = state.currentStep
        ? `${state.status.toLowerCase()}: ${state.currentStep}`
        : state.status.toLowerCase();
      bar.update(done, { activity: note ? `${now} (${note})` : now });
    },
    stop() {
      bar.stop();
    },
  };
}
