/**
 * The kit's one rule for a reason: the text a compensation receives (why it runs) and an operator gives (why a dead
 * letter is resolved). A reason is one line of printable text, trimmed, 1 to MAX_REASON_LENGTH characters. A
 * participant built on the kit accepts every reason that follows this rule (this app's services build their
 * `reasonSchema` on it), and the kit never hands a compensation anything else, whatever text a failure carried: a
 * participant's long list, a proxy's multi-line HTML page (see asReason). Pure and deterministic: the workflow bundle
 * uses it.
 */

/** The longest reason: what participants must accept, and the most a compensation is ever handed. */
export const MAX_REASON_LENGTH = 500;

/**
 * Control characters, C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F): never in a reason, nor in any text
 * that is stored or printed. C1 includes terminal controls (U+009B is CSI), so a text that passed would still rewrite
 * an operator's screen when printed; PostgreSQL cannot store a NUL in TEXT.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this rule's whole purpose
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

const CONTROL_RUNS = new RegExp(`${CONTROL_CHARACTER.source}+`, 'g');

/** The text with every run of control characters replaced by one space (for error texts that are stored). */
export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL_RUNS, ' ');
}

/** Marks a reason cut to the bound; the full text stays in the saga's state for the operator. */
const CUT = '…';

/**
 * Any text as a reason that follows the rule: control characters and runs of white space become one space, the
 * result is trimmed, and one longer than MAX_REASON_LENGTH is cut at a character boundary (never inside a surrogate
 * pair) and ends with "…". An empty text becomes "(no message)".
 */
export function asReason(text: string): string {
  const line = withoutControlCharacters(text).replace(/\s+/g, ' ').trim();
  if (!line) return '(no message)';
  if (line.length <= MAX_REASON_LENGTH) return line;
  let kept = '';
  for (const char of line) {
    // Whole code points only: a cut inside a surrogate pair would leave a character no database stores.
    if (kept.length + char.length > MAX_REASON_LENGTH - CUT.length) break;
    kept += char;
  }
  return `${kept.trimEnd()}${CUT}`;
}

/**
 * Checks a reason someone gives (an operator's resolution, a CLI's `--reason`): the reason trimmed, or why it is
 * refused, worded to follow its name ("--reason …", "the reason …").
 */
export function parseReason(value: unknown): { reason: string } | { problem: string } {
  if (typeof value !== 'string' || !value.trim())
    return { problem: 'must not be empty: a resolution needs a reason (what was done by hand)' };
  const reason = value.trim();
  if (reason.length > MAX_REASON_LENGTH)
    return { problem: `is ${reason.length} characters long; at most ${MAX_REASON_LENGTH}` };
  if (CONTROL_CHARACTER.test(reason))
    return { problem: 'must not contain control characters (newlines, tabs, ...): one line of text' };
  return { reason };
}
