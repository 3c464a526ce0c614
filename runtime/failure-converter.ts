/**
 * The failure converter of every worker, client and replay of this app (the data converter's failureConverterPath,
 * so the worker also bundles it into the workflow code, where workflow failures are made).
 *
 * Why: a failure's message and stack trace are plain strings in Temporal's history, outside the payloads the codec
 * encrypts, and a saga's failures carry customer data ("insufficient funds for cust-42: 8900 cents requested"), which
 * the saga also hands its compensations as their reason. With common attributes encoded, the server only keeps
 * "Encoded failure" and an empty stack; the text and the stack travel as one payload, which the payload codec
 * encrypts when keys are set (runtime/payload-codec.ts). Any Temporal SDK decodes it (without keys, it is plain JSON).
 *
 * This module is bundled into the workflow sandbox: it imports nothing but the SDK's common package.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
