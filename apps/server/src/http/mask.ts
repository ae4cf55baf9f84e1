/**
 * Masking of audit before/after values: secrets are replaced, personal data is reduced to a hint.
 * Field names decide, at any depth.
 */
const SECRET = /(password|secret|token|hash|mfa|recovery|credential|private|^key$|apikey|api_key$)/i;
const EMAIL = /(^|_)email$|Email$/;
const PERSONAL =
  /^(full_?name|first_?name|last_?name|name_of_person|phone|phone_?number|address|billing_?address|avatar_?url|ip_?address|user_?agent)$/i;

export const REDACTED = '[redacted]';

/** `jane.doe@example.com` → `j***@example.com` */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 1) return '***';
  return `${value[0]}***${value.slice(at)}`;
}

export function maskValue(key: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (SECRET.test(key) && !/(Id|_id|_at|At|Count|Enabled|_enabled)$/.test(key)) return REDACTED;
  if (EMAIL.test(key)) return typeof value === 'string' ? maskEmail(value) : REDACTED;
  if (PERSONAL.test(key)) return typeof value === 'string' && value.length > 0 ? `${value[0]}***` : REDACTED;
  return maskDeep(value);
}

export function maskDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => maskDeep(v));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskValue(k, v);
    return out;
  }
  return value;
}

export function maskRecord(record: Record<string, unknown> | null | undefined) {
  return record ? (maskDeep(record) as Record<string, unknown>) : record;
}
