import assert from 'node:assert/strict';
import fc from 'fast-check';
import { reasonRule } from 'temporal-saga-kit/workflow';
import { reasonSchema } from '../../../services/shared/fields';
import { renderDetails } from '../src/workflow/details';

const { asReason, maxLength: MAX_REASON_LENGTH } = reasonRule;

/**
 * The kit's promise to its participants: whatever text a failure carries, the reason its compensations are handed
 * follows the reason rule, so a participant built on it (here: the services' reasonSchema) never refuses it.
 */
describe('the reason a compensation is handed', () => {
  it('is accepted by the participants for any text at all', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2000 }), (text) => {
        const reason = asReason(`reserve-inventory: ${text}`);
        assert.ok(reasonSchema.safeParse(reason).success, JSON.stringify(reason));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps a proxy's multi-line HTML page on one line, bounded", () => {
    const page = `<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n${'<!-- padding -->\n'.repeat(60)}</body>\r\n</html>\r\n`;
    const reason = asReason(`schedule-shipment: shipping answered 502 to POST /shipments: ${page}`);
    assert.ok(reason.length <= MAX_REASON_LENGTH);
    assert.ok(!/[\r\n]/.test(reason));
    assert.match(reason, /^schedule-shipment: shipping answered 502 to POST \/shipments: <html> <head><title>502/);
    assert.ok(reason.endsWith('…'));
  });

  it('is cut between characters, never inside one', () => {
    const reason = asReason('😀'.repeat(400));
    assert.ok(reason.length <= MAX_REASON_LENGTH);
    assert.equal(reason, `${'😀'.repeat(249)}…`);
  });
});

describe("the web UI's current details", () => {
  it('show failure texts and reasons as plain text, never as links, images or HTML', () => {
    const hostile =
      '[click](https://evil.example) ![x](https://evil.example/x.png) <img src=x onerror=alert(1)>\n# big';
    const details = renderDetails({
      status: 'NEEDS_ATTENTION',
      cancellable: false,
      steps: [
        {
          name: 'create-order',
          kind: 'compensatable',
          status: 'FAILED',
          failure: { type: 'x', message: hostile, businessRejection: false },
        },
      ],
      compensations: [{ name: 'reject-order', forStep: 'create-order', status: 'RESOLVED', resolution: hostile }],
      compensationCause: { cause: 'failed', reason: hostile, failedStep: 'create-order' },
      data: {},
    });
    // Every character Markdown would read is escaped (CommonMark shows "\\[" as "["), and the text stays on its line.
    for (const raw of [/(?<!\\)\]\(/, /(?<!\\)<img/, /(?<!\\)!\[/, /\n# big/]) assert.doesNotMatch(details, raw);
    assert.match(details, /\\\[click\\\]\\\(https\\:\/\/evil\\\.example\\\)/);
  });
});
