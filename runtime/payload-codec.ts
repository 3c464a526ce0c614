/**
 * Payload encryption: workflow inputs and results, activity arguments and results, signals, updates, queries and
 * failure details carry names, street addresses and amounts, and Temporal keeps them in its history (and its
 * database, and shows them in its web UI) as they are given. With this codec on the client and the worker, the
 * server only ever holds AES-256-GCM ciphertext; whoever holds a key decodes.
 *
 * Format (the one Temporal's samples use): the whole original payload (its metadata, encoding included, and its data)
 * is serialised as a `temporal.api.common.v1.Payload` and encrypted; the result is a payload whose metadata says
 * `encoding: binary/encrypted` and `encryption-key-id: <id>`, and whose data is IV (12 bytes) ‖ ciphertext ‖ GCM tag
 * (16 bytes). The key id is also the GCM additional data, so a payload cannot be passed off under another key's id.
 *
 * Keys and rotation: a keyring of named 256-bit keys; new payloads are encrypted with the current key, and every
 * payload is decoded with the key its metadata names, so old histories stay readable after a rotation as long as
 * their key stays in the ring. A payload that is not encrypted (written before encryption was turned on) is passed
 * through as it is.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ConfigError } from '../services/shared/config';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface PayloadKeyring {
  /** The key new payloads are encrypted with. */
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly currentKey: Buffer;

  constructor(private readonly keyring: PayloadKeyring) {
    const key = keyring.keys.get(keyring.currentKeyId);
    if (!key) throw new ConfigError(`the current payload key ${keyring.currentKeyId} is not in the keyring`);
    this.currentKey = key;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const keyId = this.keyring.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.currentKey, iv).setAAD(Buffer.from(keyId));
    const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      metadata: { encoding: bytes(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: bytes(keyId) },
      data: new Uint8Array(Buffer.concat([iv, ciphertext, cipher.getAuthTag()])),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = keyId === undefined ? undefined : this.keyring.keys.get(keyId);
    if (!key)
      throw new PayloadDecryptionError(
        `payload encrypted with key ${keyId ?? '(none named)'}, which is not in the keyring (TEMPORAL_PAYLOAD_KEYS)`,
      );
    const data = Buffer.from(payload.data ?? []);
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('encrypted payload too short');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES)).setAAD(Buffer.from(keyId!));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(`payload under key ${keyId} does not authenticate (altered, or another key)`);
    }
    const decoded = temporal.api.common.v1.Payload.decode(plaintext);
    return {
      metadata: Object.fromEntries(Object.entries(decoded.metadata).map(([k, v]) => [k, new Uint8Array(v)])),
      data: new Uint8Array(decoded.data),
    };
  }
}

function text(value: Uint8Array | null | undefined): string | undefined {
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

/**
 * Bytes in an ArrayBuffer of their own. A small Buffer is a view into Node's shared pool, and the SDK hands payloads to
 * its native core, which must not see (or be handed) the rest of that pool.
 */
function bytes(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value));
}

/**
 * `id=base64key,id=base64key…` (whitespace or commas between entries): the first entry is the current key, the
 * others decode older payloads only. Each key is 32 random bytes, base64 (`openssl rand -base64 32`).
 */
export function parsePayloadKeys(spec: string, setting = 'TEMPORAL_PAYLOAD_KEYS'): PayloadKeyring {
  const keys = new Map<string, Buffer>();
  let currentKeyId: string | undefined;
  for (const entry of spec.split(/[\s,]+/).filter(Boolean)) {
    const separator = entry.indexOf('=');
    const id = entry.slice(0, separator);
    if (separator <= 0 || !/^[A-Za-z0-9._-]{1,64}$/.test(id))
      throw new ConfigError(`${setting}: each entry is id=base64key, the id letters, digits, . _ - (got "${id}")`);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== KEY_BYTES)
      throw new ConfigError(`${setting}: key ${id} must be 32 bytes, base64 (openssl rand -base64 32)`);
    if (keys.has(id)) throw new ConfigError(`${setting}: key id ${id} appears twice`);
    keys.set(id, key);
    currentKeyId ??= id;
  }
  if (!currentKeyId) throw new ConfigError(`${setting}: no key`);
  return { currentKeyId, keys };
}

/** A new keyring line with one fresh key (what the local stack writes into its data folder). */
export function newPayloadKeyEntry(id = `k${Date.now().toString(36)}`): string {
  return `${id}=${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * The codec the settings ask for: TEMPORAL_PAYLOAD_KEYS, or the file TEMPORAL_PAYLOAD_KEYS_FILE holds it in;
 * undefined when neither is set (payloads in clear, as before).
 */
export function loadPayloadCodec(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const inline = env.TEMPORAL_PAYLOAD_KEYS?.trim();
  if (inline) return new AesGcmPayloadCodec(parsePayloadKeys(inline));
  const file = env.TEMPORAL_PAYLOAD_KEYS_FILE?.trim();
  if (!file) return undefined;
  let spec: string;
  try {
    spec = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`TEMPORAL_PAYLOAD_KEYS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  return new AesGcmPayloadCodec(parsePayloadKeys(spec, `TEMPORAL_PAYLOAD_KEYS_FILE (${file})`));
}

/** The failure converter module (see failure-converter.ts): a path, since the worker bundles it into workflow code. */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter for a client, a worker or a replay: failure messages and stack traces encoded as a payload
 * (failure-converter.ts), and every payload encrypted with the codec when there is one.
 */
export function payloadDataConverter(codec: PayloadCodec | undefined): DataConverter {
  return { failureConverterPath: FAILURE_CONVERTER_PATH, ...(codec && { payloadCodecs: [codec] }) };
}
