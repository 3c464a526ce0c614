import { orderSaga } from '../../workflows/order-saga';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { awaitSagaResult, startSaga } from '../../cli/saga-client';
import { demoLogger, openTarget, type DemoTarget } from '../../scripts/demo/target';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium, SHOTS, slug, UI_TIMEOUT_MS } from '../support/browser';

/**
 * What the README promises about the Temporal web UI, checked in a real browser against the real UI that
 * `npm start` serves: a compensated saga is shown, its compensations are recognisable by their activity summaries,
 * and its SagaStatus search attribute says COMPENSATED (on the workflow and in the list's query filter).
 *
 * The stack is the demo's private one (startLocalStack on a temporary folder and free ports, web UI included),
 * since the tests' own saga stack runs the dev server headless. Screenshots go to test-output/ui/ (gitignored)
 * for a human to look at, and one is taken of the page whenever a test fails.
 */
const COMPENSATION_SUMMARIES = [
  'compensate: cancel shipment',
  'compensate: release inventory',
  'compensate: reject order',
];

describe('Temporal web UI shows a compensated saga and a parallel group (headless Chromium)', function () {
  this.timeout(120_000);
  let target: DemoTarget;
  let browser: Browser;
  let page: Page;
  const suffix = randomBytes(3).toString('hex');
  const compensated = `ui-broke-${suffix}`;
  const approved = `ui-ok-${suffix}`;

  before(async function () {
    requireChromium();
    target = await openTarget('always', {}, demoLogger('silent'), () => undefined);
    const destination = { recipient: 'Bo', line1: '2 Side St', city: 'Paris', postalCode: '75001', country: 'FR' };
    const items = [{ sku: 'KB-001', quantity: 1 }];
    // cust-broke cannot pay: the pivot refuses, three compensations run. The approved saga is the control that the
    // list's SagaStatus filter really filters.
    await startSaga(target.client, target.config.taskQueue, orderSaga, {
      orderId: compensated,
      customerId: 'cust-broke',
      items,
      destination,
    });
    await startSaga(target.client, target.config.taskQueue, orderSaga, {
      orderId: approved,
      customerId: 'cust-alice',
      items,
      destination,
    });
    const [broke, ok] = await Promise.all([
      awaitSagaResult(target.client, compensated),
      awaitSagaResult(target.client, approved),
    ]);
    assert.equal(broke.outcome === 'completed' && broke.result.status, 'REJECTED', JSON.stringify(broke));
    assert.equal(ok.outcome === 'completed' && ok.result.status, 'APPROVED', JSON.stringify(ok));

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1300 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      await page
        .screenshot({ path: path.join(SHOTS, `failed-${slug(this.currentTest.title)}.png`), fullPage: true })
        .catch(() => undefined);
    }
  });

  after(async () => {
    await browser?.close();
    await target?.close();
  });

  const workflowUrl = (id: string) =>
    `${target.config.uiUrl}/namespaces/${encodeURIComponent(target.config.namespace)}/workflows/${encodeURIComponent(id)}`;

  it('shows the workflow, with its compensations by summary on the timeline', async () => {
    await page.goto(workflowUrl(compensated));
    await page.getByRole('heading', { name: compensated }).waitFor();
    // The timeline (the page's default view) labels each activity "<type> • <summary>".
    for (const summary of COMPENSATION_SUMMARIES) await page.getByText(summary).first().waitFor();
    await page.getByText('chargePayment • charge payment').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'workflow-timeline.png'), fullPage: true });
  });

  it('shows a parallel group side by side on the timeline: the three confirmations start together', async () => {
    await page.goto(workflowUrl(approved));
    await page.getByRole('heading', { name: approved }).waitFor();
    const labels = [
      'confirmReservation • confirm reservation',
      'confirmShipment • confirm shipment',
      'approveOrder • approve order',
      'reserveInventory • reserve inventory',
      'scheduleShipment • schedule shipment',
    ];
    for (const label of labels) await page.getByText(label).first().waitFor();
    // For a human: the group's bars side by side (test-output/ui/workflow-timeline-parallel.png). Where the UI puts a
    // label (left or right of its bar) depends on the room, so what the bars show is checked on the history they
    // are drawn from: each group's activities were scheduled by one workflow task, at once.
    await page.screenshot({ path: path.join(SHOTS, 'workflow-timeline-parallel.png'), fullPage: true });
    const events = (await target.client.workflow.getHandle(approved).fetchHistory()).events ?? [];
    const scheduledBy = (type: string) =>
      String(
        events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)
          ?.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId,
      );
    assert.equal(
      new Set(['reserveInventory', 'scheduleShipment'].map(scheduledBy)).size,
      1,
      'reserve-inventory ‖ schedule-shipment',
    );
    assert.equal(
      new Set(['confirmReservation', 'confirmShipment', 'approveOrder'].map(scheduledBy)).size,
      1,
      'the three confirmations',
    );
    assert.notEqual(scheduledBy('chargePayment'), scheduledBy('approveOrder'));
  });

  it('lists the compensations by summary in the event history, in reverse order of their steps', async () => {
    await page.goto(workflowUrl(compensated));
    await page.getByRole('tab', { name: /Event History/ }).click();
    await page.waitForURL(/\/history$/);
    // The compact view folds each activity's events into one row: type, summary, attempt (the failed one red).
    await page.getByRole('button', { name: 'Compact', exact: true }).click();
    const history = page.locator('table');
    for (const summary of COMPENSATION_SUMMARIES) await history.getByText(summary, { exact: true }).waitFor();
    // Newest first: reject order (ran last) above release inventory above cancel shipment (ran first).
    const rows = await history.innerText();
    const positions = COMPENSATION_SUMMARIES.map((summary) => rows.indexOf(summary));
    assert.ok(
      positions[2] < positions[1] && positions[1] < positions[0],
      `compensations not in reverse order of the steps:\n${rows}`,
    );
    await page.screenshot({ path: path.join(SHOTS, 'workflow-event-history.png'), fullPage: true });
  });

  it('shows the search attribute SagaStatus = COMPENSATED on the workflow', async () => {
    await page.goto(workflowUrl(compensated));
    await page.getByRole('tab', { name: 'Search Attributes' }).click();
    await page.waitForURL(/\/search-attributes$/);
    await page.getByText('"COMPENSATED"').waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /"SagaStatus":\s*"COMPENSATED"/, `search attributes shown:\n${text}`);
    await page.screenshot({ path: path.join(SHOTS, 'workflow-search-attributes.png'), fullPage: true });
  });

  it('finds the saga in the workflow list filtered by SagaStatus="COMPENSATED", and not the approved one', async () => {
    const query = encodeURIComponent('SagaStatus="COMPENSATED"');
    await page.goto(
      `${target.config.uiUrl}/namespaces/${encodeURIComponent(target.config.namespace)}/workflows?query=${query}`,
    );
    // The list reads the visibility store, which may trail the workflow by a moment: reload until the row shows.
    const row = page.getByRole('link', { name: compensated, exact: true });
    for (const deadline = Date.now() + UI_TIMEOUT_MS; ; await page.reload()) {
      const shown = await row.waitFor({ timeout: 3_000 }).then(
        () => true,
        () => false,
      );
      if (shown) break;
      assert.ok(
        Date.now() < deadline,
        `${compensated} not listed under SagaStatus="COMPENSATED" within ${UI_TIMEOUT_MS / 1000} s`,
      );
    }
    assert.equal(
      await page.getByText(approved).count(),
      0,
      `${approved} (APPROVED) must not match the COMPENSATED filter`,
    );
    await page.screenshot({ path: path.join(SHOTS, 'workflow-list-compensated.png'), fullPage: true });
  });
});
