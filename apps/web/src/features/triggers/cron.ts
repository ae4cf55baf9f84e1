/** The cron builder's presets: a plain-language choice and a time become a cron expression. */
export type CronPreset = 'minute' | 'hourly' | 'daily' | 'weekdays' | 'weekly' | 'custom';

export const PRESETS: { value: CronPreset; label: string }[] = [
  { value: 'minute', label: 'Every minute' },
  { value: 'hourly', label: 'Every hour' },
  { value: 'daily', label: 'Every day at…' },
  { value: 'weekdays', label: 'Weekdays (Mon–Fri) at…' },
  { value: 'weekly', label: 'Every Monday at…' },
  { value: 'custom', label: 'Custom cron expression' },
];

/** `HH:MM` → the cron expression of a preset (`custom` keeps what was typed). */
export function cronOf(preset: CronPreset, time: string, custom: string): string {
  const [h, m] = /^(\d{1,2}):(\d{2})$/.test(time) ? time.split(':').map(Number) : [9, 0];
  switch (preset) {
    case 'minute':
      return '* * * * *';
    case 'hourly':
      return `${m} * * * *`;
    case 'daily':
      return `${m} ${h} * * *`;
    case 'weekdays':
      return `${m} ${h} * * 1-5`;
    case 'weekly':
      return `${m} ${h} * * 1`;
    default:
      return custom.trim();
  }
}

/** The browser's time zone, the default of a new schedule. */
export function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/** A copyable curl command that calls a webhook trigger (Standard Webhooks: signed with openssl). */
export function curlFor(
  url: string,
  auth: 'standard' | 'bearer' | 'none',
  secret: string | undefined,
): string {
  const body = `'{"text":"hello"}'`;
  if (auth === 'none') return `curl -X POST ${url} -H 'content-type: application/json' -d ${body}`;
  if (auth === 'bearer')
    return `curl -X POST ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${secret ?? '<token>'}' -d ${body}`;
  return [
    `SECRET='${secret ?? '<whsec_…>'}'; ID=msg_$(date +%s%N); TS=$(date +%s); BODY=${body}`,
    `SIG=$(printf '%s' "$ID.$TS.$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf '%s' "\${SECRET#whsec_}" | base64 -d | xxd -p -c 256) -binary | base64)`,
    `curl -X POST ${url} -H 'content-type: application/json' -H "webhook-id: $ID" -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" -d "$BODY"`,
  ].join('\n');
}
