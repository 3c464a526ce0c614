/**
 * A codec server, as Temporal documents it (docs.temporal.io, "Codec Server"): `POST /encode` and `POST /decode`
 * take and return `{ "payloads": [{ "metadata": { key: base64 }, "data": base64 }] }` (the proto3 JSON of Payloads)
 * and run the payload codec on them, so that the web UI (Settings → Codec Server) and the Temporal CLI show an
 * authorized operator the decoded payloads the server only holds encrypted.
 *
 * The browser calls it directly, from the web UI's origin: CORS allows exactly the configured origins (credentials
 * and the headers the UI sends), answering preflights before any check, since browsers send no credentials on them.
 * Every encode and decode needs the bearer token (the UI's "pass the user access token", or a CLI header): whoever
 * can call /decode reads every customer's address, so it is never open.
 */
import express, { type ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { requireBearerToken } from '../services/shared/auth';
import { HttpError, NotFoundError, toClientError } from '../services/shared/errors';
import { PayloadDecryptionError } from './payload-codec';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer token callers must present. */
  token: string;
  /** Web origins allowed to call it from a browser (the web UI's, e.g. http://127.0.0.1:8233). */
  allowedOrigins: string[];
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const payloadsBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }).strict()),
});

type JsonPayload = { metadata?: Record<string, string>; data?: string };

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  };
}

export function createCodecServerApp(options: CodecServerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const origins = new Set(options.allowedOrigins);
  app.use((req, res, next) => {
    const origin = req.get('origin');
    if (origin && origins.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'authorization, content-type, x-namespace',
        'Access-Control-Max-Age': '600',
      });
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') return void res.status(origin && origins.has(origin) ? 204 : 403).end();
    next();
  });
  app.use(requireBearerToken({ write: options.token }));
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));

  for (const direction of ['encode', 'decode'] as const) {
    app.post(`/${direction}`, async (req, res) => {
      const parsed = payloadsBody.safeParse(req.body);
      if (!parsed.success)
        throw new HttpError(
          400,
          'invalid_payloads',
          `expected { payloads: [{ metadata, data }] }: ${parsed.error.message}`,
        );
      try {
        const payloads = await options.codec[direction](parsed.data.payloads.map(fromJson));
        res.json({ payloads: payloads.map(toJson) });
      } catch (err) {
        if (err instanceof PayloadDecryptionError) throw new HttpError(422, 'cannot_decode', err.message);
        throw err;
      }
    });
  }
  app.use((req) => {
    throw new NotFoundError('route_not_found', `no route for ${req.method} ${req.path}: POST /encode or /decode`);
  });
  const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
    const known = toClientError(err, { maxBodyBytes: MAX_BODY_BYTES });
    if (known) {
      if (known.headers) res.set(known.headers);
      res.status(known.status).json(known.toBody());
      return;
    }
    res.status(500).json(new HttpError(500, 'internal_error', 'internal error').toBody());
  };
  app.use(errorHandler);
  return app;
}
