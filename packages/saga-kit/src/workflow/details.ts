import { STATUS_MARKS } from './marks';
import { withoutControlCharacters } from './reason';
import { groupsOf } from './stages';
import type { SagaState } from './types';

/**
 * The saga as Markdown, shown as the workflow's "current details" in the Temporal web UI. Texts that come from outside
 * the saga's code (failure messages, reasons, an operator's resolution) are shown as plain text: see plainText.
 */
export function renderDetails(state: SagaState): string {
  const lines = [`**Saga ${state.status}**${state.currentStep ? `: ${state.currentStep}` : ''}`, ''];
  for (const stage of groupsOf(state.steps)) {
    // A parallel group: one "parallel" line, its members indented under it.
    const indent = stage[0].group !== undefined ? '  ' : '';
    if (indent) lines.push(`- ⇉ parallel _(${stage[0].kind})_`);
    for (const s of stage) lines.push(`${indent}- ${STATUS_MARKS[s.status]} ${s.name} _(${s.kind})_${note(s)}`);
  }
  if (state.compensations.length) {
    const cause = state.compensationCause;
    lines.push('', `**Compensations** (${cause?.cause}: ${plainText(cause?.reason ?? '')})`);
    for (const c of state.compensations) lines.push(`- ${STATUS_MARKS[c.status]} ${c.name}${note(c)}`);
  }
  if (state.status === 'NEEDS_ATTENTION')
    lines.push(
      '',
      '**Needs attention**: retry or resolve the dead-lettered action (`npm run client -- dead-letters --help`).',
    );
  return lines.join('\n');
}

/** What follows a step's or compensation's name: the operator's resolution, or the failure while it matters. */
function note(entry: { status: string; failure?: { message: string }; resolution?: string }): string {
  if (entry.status === 'RESOLVED') return `: resolved by an operator: ${plainText(entry.resolution ?? '')}`;
  if (entry.failure && entry.status !== 'COMPLETED') return `: ${plainText(entry.failure.message)}`;
  return '';
}

/** Every ASCII punctuation character Markdown (with GitHub's extensions: autolinks, tables, strikethrough) reads. */
const MARKDOWN_PUNCTUATION = /[\\`*_{}[\]()<>#+\-.!|~:&]/g;

/**
 * A text from outside the saga's code as plain text in Markdown: one line (control characters would start new
 * blocks), every punctuation character escaped, so that a failure message or a reason cannot become a link, an image,
 * a heading or HTML in an operator's browser. CommonMark renders a backslash-escaped punctuation character as itself.
 */
export function plainText(text: string): string {
  return withoutControlCharacters(text).replace(MARKDOWN_PUNCTUATION, (c) => `\\${c}`);
}
