import fs from 'node:fs';
import path from 'node:path';

/** How many of the last lines are kept for error messages. */
const KEPT_LINES = 200;

/**
 * A child process's output as the harness keeps it: the last lines in a ring, for the error message when the child
 * fails; everything appended to a log file when one is given; optionally echoed to our stderr, each line prefixed
 * with the child's label. Used for the Temporal servers (infra/temporal) and the stack's child processes
 * (infra/processes).
 */
export class OutputCapture {
  private lines: string[] = [];
  private partial = '';
  private total = 0;
  private file?: fs.WriteStream;

  constructor(
    logFile?: string,
    private readonly label = 'dev-server',
    private readonly echo = false,
  ) {
    if (logFile) {
      fs.mkdirSync(path.dirname(path.resolve(logFile)), { recursive: true });
      // Append: a restarted child's output follows the previous run's in the same file.
      this.file = fs.createWriteStream(logFile, { flags: 'a' });
    }
  }

  write(chunk: Buffer) {
    this.file?.write(chunk);
    if (this.echo) process.stderr.write(chunk.toString('utf8').replace(/^(?=.)/gm, `[${this.label}] `));
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.push(line);
  }

  /** Our own remarks (command line, readiness, forced kill), marked so they are not mistaken for the child's output. */
  note(line: string) {
    const text = `[${this.label} ${new Date().toISOString()}] ${line}`;
    this.file?.write(`${text}\n`);
    this.push(text);
  }

  /** A position in the output, to look at one attempt's lines only. */
  mark(): number {
    return this.total;
  }

  /** Lines written after mark (as far as the ring still holds them), plus any unterminated last line. */
  since(mark: number): string {
    const kept = this.lines.slice(Math.max(0, this.lines.length - (this.total - mark)));
    return [...kept, this.partial].join('\n');
  }

  tail(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].join('\n');
  }

  close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    return new Promise((resolve) => (file ? file.end(resolve) : resolve()));
  }

  private push(line: string) {
    this.total++;
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
  }
}
