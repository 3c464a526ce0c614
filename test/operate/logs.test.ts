import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Router } from 'express';
import pino from 'pino';
import { createServiceApp } from '../../services/shared/app';

/**
 * Logs a person reads: LOG_FORMAT=pretty (what `npm start` sets) gives one readable line per entry, JSON stays the
 * default (production, compose); a service's request lines are debug, so info shows what happened, not every call.
 */
const REPO = path.resolve(__dirname, '../..');

/** Runs createLogger in a fresh process (the format is read from the environment) and returns what it printed. */
async function logOnce(env: NodeJS.ProcessEnv): Promise<string> {
  const script =
    "const { createLogger } = require('./services/shared/logger'); const l = createLogger('stack'); l.child({ service: 'orders' }).info({ port: 4101 }, 'orders service listening'); l.debug('hidden at info');";
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await once(child, 'close');
  return out;
}

describe('operate: logs a person reads', () => {
  it('LOG_FORMAT=pretty: one readable line, time, level, [service] message, fields; nothing below LOG_LEVEL', async () => {
    const out = await logOnce({ LOG_FORMAT: 'pretty' });
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[orders\] orders service listening \{"port":4101\}\n$/);
  });

  it('JSON by default (production, compose): one object per line', async () => {
    const out = await logOnce({ LOG_FORMAT: '' });
    const line = JSON.parse(out.trim());
    assert.equal(line.msg, 'orders service listening');
    assert.equal(line.service, 'orders');
    assert.equal(line.level, 30);
  });

  it('a request is a debug line: none at info, one at debug (without the credential)', async () => {
    const requestLines = async (level: string) => {
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(
            ...String(chunk)
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l)),
          );
          done();
        },
      });
      const app = createServiceApp({
        name: 'orders',
        logger: pino({ level }, sink),
        faultInjection: false,
        authToken: 'a-test-token-0123456789',
        router: Router(),
        healthCheck: async () => undefined,
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, {
        headers: { authorization: 'Bearer a-test-token-0123456789' },
      });
      assert.equal(res.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      server.close();
      return lines.filter((l) => l.req || l.res);
    };
    assert.deepEqual(await requestLines('info'), []);
    const debug = await requestLines('debug');
    assert.equal(debug.length, 1);
    assert.equal(debug[0].level, 20);
    assert.equal((debug[0].req as { headers: Record<string, string> }).headers.authorization, '[redacted]');
  });
});
