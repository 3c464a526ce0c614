import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { awaitSagaResult, createSagaClient, startSaga } from '../../cli/saga-client';
import type { InProcessStack } from '../../infra/stack';
import { startDevServer, type DevServer } from '../../infra/temporal/dev-server';
import { createCodecServerApp } from '../../runtime/codec-server';
import { AesGcmPayloadCodec, parsePayloadKeys, payloadDataConverter } from '../../runtime/payload-codec';
import { getFreePort } from '../../runtime/ports';
import { SAGA_SEARCH_ATTRIBUTES } from '../../runtime/search-attributes';
import { orderSaga } from '../../workflows/order-saga';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium, SHOTS, slug, UI_TIMEOUT_MS } from '../support/browser';
import { installQuietRuntime, startTestServices } from '../support/saga-stack';

/**
 * The web UI decodes encrypted payloads through the codec server, for an authorized operator only, in a real browser:
 * the dev server's own web UI started with `--ui-codec-endpoint` pointing at the real codec server
 * (runtime/codec-server.ts), an order saga run by a worker that encrypts (runtime/payload-codec.ts).
 *
 * The browser calls the codec endpoint itself, from the UI's origin. The UI sends a bearer token there only when it
 * has a login of its own (OIDC, "pass the user access token"); the dev server's UI has none. The operator's
 * authorization is modelled as what an authenticating proxy or the operator's browser adds: an
 * `Authorization: Bearer` header on the browser's requests (playwright's extraHTTPHeaders). The codec server's CORS
 * admits the UI's origin and that header. A browser without it gets 401 from the codec server, and the page shows the
 * payloads as the server holds them: encrypted.
 */
const RECIPIENT = 'Philippa Ravenscroft';
const STREET = '17 Larkspur Lane';
const TOKEN = randomBytes(24).toString('hex');
const KEYS = `k-ui=${randomBytes(32).toString('base64')}`;

describe('web UI through the codec server: decoded for an authorized operator, ciphertext for anyone else (Chromium)', function () {
  this.timeout(180_000);
  let codecServer: Server;
  let codecUrl: string;
  let temporal: DevServer;
  let stack: InProcessStack;
  let connection: Connection;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  /** Every call the pages made to the codec server, with its status. */
  const codecCalls: { authorized: boolean; status: number }[] = [];
  const orderId = `ui-codec-${randomBytes(3).toString('hex')}`;

  before(async () => {
    requireChromium();
    installQuietRuntime();
    const uiPort = await getFreePort('127.0.0.1');
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(KEYS));
    codecServer = createCodecServerApp({
      codec,
      token: TOKEN,
      allowedOrigins: [`http://127.0.0.1:${uiPort}`],
    }).listen(0, '127.0.0.1');
    await once(codecServer, 'listening');
    codecUrl = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}`;
    temporal = await startDevServer({
      uiPort,
      searchAttributes: { ...SAGA_SEARCH_ATTRIBUTES },
      uiCodecEndpoint: codecUrl,
    });
    stack = await startTestServices(temporal, 'ui-codec', { dataConverter: payloadDataConverter(codec) });
    await stack.startWorker();
    connection = await Connection.connect({ address: temporal.address });
    const client = createSagaClient(connection, temporal.namespace, payloadDataConverter(codec));
    await startSaga(client, stack.taskQueue, orderSaga, {
      orderId,
      customerId: 'cust-alice',
      items: [{ sku: 'KB-001', quantity: 1 }],
      destination: { recipient: RECIPIENT, line1: STREET, city: 'Berlin', postalCode: '10115', country: 'DE' },
    });
    const result = await awaitSagaResult(client, orderId);
    assert.ok(result.outcome === 'completed' && result.result.status === 'APPROVED', JSON.stringify(result));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    for (const [i, page] of pages.entries())
      await page
        .screenshot({ path: path.join(SHOTS, `failed-${slug(this.currentTest.title)}-${i}.png`), fullPage: true })
        .catch(() => undefined);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await connection?.close();
    await stack?.stop(); // stops the dev server too
    codecServer?.close();
  });

  async function openWorkflow(authorized: boolean): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1600, height: 1300 },
      ...(authorized && { extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } }),
    });
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('response', (response) => {
      if (response.url().startsWith(`${codecUrl}/decode`) && response.request().method() === 'POST')
        codecCalls.push({ authorized, status: response.status() });
    });
    const url = `http://127.0.0.1:${temporal.options.uiPort}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(orderId)}`;
    await page.goto(url);
    await page.getByRole('heading', { name: orderId }).waitFor();
    return page;
  }

  it('the UI is configured with the codec endpoint', async () => {
    const response = await fetch(`http://127.0.0.1:${temporal.options.uiPort}/api/v1/settings`);
    assert.equal(response.status, 200);
    const settings = (await response.json()) as { Codec?: { Endpoint?: string } };
    assert.equal(settings.Codec?.Endpoint, codecUrl, JSON.stringify(settings));
  });

  it('an operator whose browser presents the token sees the decoded recipient and street', async () => {
    const page = await openWorkflow(true);
    await page.getByText(RECIPIENT).first().waitFor();
    await page.getByText(STREET).first().waitFor();
    await page.getByText('chargePayment • charge payment').waitFor();
    assert.ok(
      codecCalls.some((c) => c.authorized && c.status === 200),
      `the page decoded through the codec server: ${JSON.stringify(codecCalls)}`,
    );
    await page.screenshot({ path: path.join(SHOTS, 'workflow-codec-authorized.png'), fullPage: true });
  });

  it('a browser without the token is refused by the codec server and sees only ciphertext', async () => {
    const page = await openWorkflow(false);
    // The page has tried the codec server and shown the input as the server holds it: an encrypted payload.
    for (const deadline = Date.now() + UI_TIMEOUT_MS; !codecCalls.some((c) => !c.authorized);) {
      assert.ok(Date.now() < deadline, `the page never called the codec server: ${JSON.stringify(codecCalls)}`);
      await page.waitForTimeout(200);
    }
    assert.ok(
      codecCalls.filter((c) => !c.authorized).every((c) => c.status === 401),
      `without the token, every decode is refused: ${JSON.stringify(codecCalls)}`,
    );
    await page.locator('#content').getByText('Codec Server could not connect').waitFor();
    // The input card shows the encrypted payload's bytes (base64), not the order: no field name, no value.
    const text = await page.locator('body').innerText();
    for (const clear of [RECIPIENT, STREET, 'Larkspur', '"recipient"', '"destination"', 'totalCents'])
      assert.ok(!text.includes(clear), `${clear} shown without authorization`);
    // Nor the activities' summaries (user metadata, a payload like the others): the timeline names their types only.
    assert.ok(!text.includes('charge payment'), 'the summary "charge payment" shown without authorization');
    await page.screenshot({ path: path.join(SHOTS, 'workflow-codec-unauthorized.png'), fullPage: true });
  });
});
