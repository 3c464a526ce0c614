/**
 * `npm run codec-server`: the payload codec over HTTP for the web UI and the CLI (runtime/codec-server.ts).
 *   TEMPORAL_PAYLOAD_KEYS (or _FILE)  the keys, as the worker has them (required)
 *   CODEC_SERVER_TOKEN                the bearer token callers present (required, 16+ characters)
 *   CODEC_SERVER_ADDRESS              where to listen (default 127.0.0.1:8081)
 *   CODEC_SERVER_ORIGINS              browser origins allowed (default the dev server's web UI, http://127.0.0.1:8233)
 */
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createCodecServerApp } from '../runtime/codec-server';
import { loadPayloadCodec } from '../runtime/payload-codec';

const settings = z
  .object({
    CODEC_SERVER_TOKEN: z.string({ error: 'set CODEC_SERVER_TOKEN' }).min(16, 'CODEC_SERVER_TOKEN: 16+ characters'),
    CODEC_SERVER_ADDRESS: z
      .string()
      .regex(/^[^:]+:\d+$/, 'CODEC_SERVER_ADDRESS: host:port')
      .default('127.0.0.1:8081'),
    CODEC_SERVER_ORIGINS: z.string().default('http://127.0.0.1:8233,http://localhost:8233'),
  })
  .parse(process.env);
const codec = loadPayloadCodec();
if (!codec) throw new Error('set TEMPORAL_PAYLOAD_KEYS (or TEMPORAL_PAYLOAD_KEYS_FILE): the keys the worker has');
const [host, port] = settings.CODEC_SERVER_ADDRESS.split(':');
const server = createCodecServerApp({
  codec,
  token: settings.CODEC_SERVER_TOKEN,
  allowedOrigins: settings.CODEC_SERVER_ORIGINS.split(',').map((o) => o.trim()),
}).listen(Number(port), host, () => {
  const { port: bound } = server.address() as AddressInfo;
  process.stdout.write(`codec server on http://${host}:${bound} (POST /encode, /decode)\n`);
});
