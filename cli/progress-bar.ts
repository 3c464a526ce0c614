import { Presets, SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr for a command that works through a known number of sagas (replay, batch decisions).
 * Only on a terminal: piped or logged output (CI, `--json | jq`) gets no redraw sequences, only the command's lines.
 */
export interface CountBar {
  /** One more done; `note` says which (shown beside the bar). */
  increment(note?: string): void;
  /** Prints a line above the bar (or plainly, without one), so per-item results and the bar do not overwrite each other. */
  log(line: string): void;
  stop(): void;
}

export function startCountBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): CountBar {
  if (!stream.isTTY || total === 0) {
    return { increment() {}, log: (line) => process.stdout.write(`${line}\n`), stop() {} };
  }
  const bar = new SingleBar(
    { stream, format: `${label} [{bar}] {value}/{total} {note}`, barsize: 24, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { note: '' });
  return {
    increment: (note) => bar.increment(1, { note: note ?? '' }),
    log: (line) => {
      // Clear the bar's line, print, let the bar redraw below.
      stream.write('\r\x1b[2K');
      process.stdout.write(`${line}\n`);
      bar.render();
    },
    stop: () => bar.stop(),
  };
}
