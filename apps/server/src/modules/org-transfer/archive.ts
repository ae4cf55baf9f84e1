/**
 * The organization archive: a gzip-compressed JSON document with a format name and version. Secrets are
 * either left out (null) or re-encrypted under a key derived from an export password: scrypt (N=2^15, r=8,
 * p=1, 16-byte salt) and AES-256-GCM, each ciphertext bound to its table, column and original row id.
 */
import {
  createCipheriv,
  createDecipheriv,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AppError } from '@aiops/core';
import { z } from 'zod';

export const ARCHIVE_FORMAT = 'aiops-organization';
export const ARCHIVE_VERSION = 1;
/** Largest archive accepted, compressed (the request body) and once decompressed. */
export const MAX_ARCHIVE_BYTES = 50 * 1024 * 1024;
export const MAX_JSON_BYTES = 200 * 1024 * 1024;

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const KDF = { N: 2 ** 15, r: 8, p: 1 } as const;
const CHECK_TEXT = 'aiops-organization-export';

export const encryptionSchema = z.object({
  kdf: z.literal('scrypt'),
  N: z
    .number()
    .int()
    .min(2 ** 14)
    .max(2 ** 20),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
  salt: z.string().max(64),
  cipher: z.literal('aes-256-gcm'),
  /** A known text encrypted with the key: tells a wrong password from damaged data. */
  check: z.string().max(512),
});

export const archiveSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  version: z.number().int(),
  exportedAt: z.string(),
  source: z.object({ organizationId: z.string(), name: z.string() }),
  options: z.object({
    includeRuns: z.boolean(),
    from: z.string().nullable(),
    to: z.string().nullable(),
  }),
  encryption: encryptionSchema.nullable(),
  organization: z.object({ name: z.string().min(1).max(255), settings: z.record(z.string(), z.unknown()) }),
  /** The source organization's member ids: references to them become the importing user. */
  userIds: z.array(z.string()),
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
});
export type Archive = z.infer<typeof archiveSchema>;

export interface SecretKey {
  key: Buffer;
  params: z.infer<typeof encryptionSchema>;
}

export async function newSecretKey(password: string): Promise<SecretKey> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KDF);
  const params = {
    kdf: 'scrypt' as const,
    ...KDF,
    salt: salt.toString('base64'),
    cipher: 'aes-256-gcm' as const,
    check: seal(key, CHECK_TEXT, 'check'),
  };
  return { key, params };
}

/** The archive's key from the password; 422 `wrong_password` when it does not open the check value. */
export async function openSecretKey(
  password: string,
  params: z.infer<typeof encryptionSchema>,
): Promise<SecretKey> {
  const key = await derive(password, Buffer.from(params.salt, 'base64'), params);
  let check: string | null = null;
  try {
    check = unseal(key, params.check, 'check');
  } catch {
    check = null;
  }
  if (check === null || !timingSafeEqual(Buffer.from(check), Buffer.from(CHECK_TEXT))) {
    throw new AppError(422, 'wrong_password', 'The export password does not open this archive: check it');
  }
  return { key, params };
}

function derive(password: string, salt: Buffer, p: { N: number; r: number; p: number }) {
  return scrypt(password.normalize('NFC'), salt, 32, { ...p, maxmem: 256 * p.N * p.r + 1024 * 1024 });
}

/** `v1.<iv>.<tag>.<data>` (base64url) with the associated data. */
export function seal(key: Buffer, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), data]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function unseal(key: Buffer, sealed: string, associatedData: string): string {
  const [v, iv, tag, data] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

export const secretAad = (table: string, column: string, id: string) => `${table}.${column}:${id}`;

export function packArchive(archive: Archive): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(archive), 'utf8'));
}

/** Decompresses and checks the archive's shape and version; 400 / 413 / 422 with what to fix. */
export function unpackArchive(bytes: Buffer): Archive {
  if (bytes.length > MAX_ARCHIVE_BYTES) {
    throw new AppError(413, 'archive_too_large', `The archive is over ${MAX_ARCHIVE_BYTES} bytes`);
  }
  let text: string;
  try {
    const raw =
      bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes, { maxOutputLength: MAX_JSON_BYTES }) : bytes;
    text = raw.toString('utf8');
  } catch (e) {
    if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new AppError(
        413,
        'archive_too_large',
        `The archive decompresses to over ${MAX_JSON_BYTES} bytes`,
      );
    }
    throw new AppError(
      400,
      'invalid_archive',
      'The archive is not valid gzip: upload the file the export produced',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AppError(
      400,
      'invalid_archive',
      'The archive is not JSON: upload the file the export produced',
    );
  }
  const head = z.object({ format: z.string(), version: z.number() }).safeParse(json);
  if (!head.success || head.data.format !== ARCHIVE_FORMAT) {
    throw new AppError(
      400,
      'invalid_archive',
      `Not an organization archive (format "${ARCHIVE_FORMAT}" expected)`,
    );
  }
  if (head.data.version !== ARCHIVE_VERSION) {
    throw new AppError(
      422,
      'unsupported_archive_version',
      `Archive format version ${head.data.version} is not supported: this server reads version ${ARCHIVE_VERSION}`,
    );
  }
  const parsed = archiveSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError(
      400,
      'invalid_archive',
      `The archive is damaged at ${issue?.path.join('.')}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
