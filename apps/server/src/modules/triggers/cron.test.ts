import { describe, expect, it } from 'vitest';
import { nextFireTimes } from './cron.ts';
import type { TriggerRow } from './firing.ts';
import { dueTimes } from './scheduler.ts';

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const local = (d: Date, timeZone: string) =>
  d.toLocaleString('sv-SE', { timeZone, hour12: false }).replace(' ', 'T');

describe('cron schedules in time zones across DST changes', () => {
  it('Europe/Berlin spring forward: 02:30 does not exist on 29 March, the run moves to 03:00, once', () => {
    const t = nextFireTimes('30 2 * * *', 'Europe/Berlin', new Date('2026-03-27T12:00:00Z'), 4);
    expect(iso(t)).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    expect(t.map((d) => local(d, 'Europe/Berlin').slice(11))).toEqual([
      '02:30:00',
      '03:00:00',
      '02:30:00',
      '02:30:00',
    ]);
  });

  it('America/New_York fall back: 01:30 happens twice on 1 November, the daily run fires once', () => {
    const t = nextFireTimes('30 1 * * *', 'America/New_York', new Date('2026-10-31T00:00:00Z'), 3);
    expect(iso(t)).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    // An hourly schedule does fire in both 01:00 hours (they are two different instants).
    const hourly = nextFireTimes('0 * * * *', 'America/New_York', new Date('2026-11-01T04:30:00Z'), 3);
    expect(iso(hourly)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('Australia/Sydney spring forward (October) and Asia/Kolkata (no DST, +05:30)', () => {
    const syd = nextFireTimes('30 2 * * *', 'Australia/Sydney', new Date('2026-10-03T00:00:00Z'), 2);
    expect(syd.map((d) => local(d, 'Australia/Sydney'))).toEqual([
      '2026-10-04T03:00:00',
      '2026-10-05T02:30:00',
    ]);
    const kol = nextFireTimes('0 9 * * 1-5', 'Asia/Kolkata', new Date('2026-03-27T00:00:00Z'), 2);
    expect(iso(kol)).toEqual(['2026-03-27T03:30:00.000Z', '2026-03-30T03:30:00.000Z']);
  });

  it('Europe/London fall back: 02:30 local is unambiguous; seconds-level patterns work', () => {
    const t = nextFireTimes('30 2 * * *', 'Europe/London', new Date('2026-10-24T00:00:00Z'), 3);
    expect(iso(t)).toEqual([
      '2026-10-24T01:30:00.000Z',
      '2026-10-25T02:30:00.000Z',
      '2026-10-26T02:30:00.000Z',
    ]);
    const secs = nextFireTimes('*/10 * * * * *', 'UTC', new Date('2026-01-01T00:00:00Z'), 2);
    expect(iso(secs)).toEqual(['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z']);
  });
});

describe('missed-fire policies', () => {
  const row = (over: Partial<TriggerRow>) =>
    ({
      scheduleCron: '0 * * * *',
      timezone: 'UTC',
      missedFirePolicy: 'skip',
      catchUpLimit: 3,
      nextFireAt: new Date('2026-01-01T00:00:00Z'),
      ...over,
    }) as TriggerRow;
  const now = new Date('2026-01-01T10:00:30Z');

  it('skip: after downtime only the on-time due time fires; the cursor moves past now', () => {
    const plan = dueTimes(row({}), now);
    expect(iso(plan.fire)).toEqual(['2026-01-01T10:00:00.000Z']);
    expect(plan.missed).toBe(10);
    expect(plan.next?.toISOString()).toBe('2026-01-01T11:00:00.000Z');
  });

  it('catchUp: the latest catchUpLimit missed due times fire too, oldest first', () => {
    const plan = dueTimes(row({ missedFirePolicy: 'catchUp' }), now);
    expect(iso(plan.fire)).toEqual([
      '2026-01-01T07:00:00.000Z',
      '2026-01-01T08:00:00.000Z',
      '2026-01-01T09:00:00.000Z',
      '2026-01-01T10:00:00.000Z',
    ]);
    expect(plan.missed).toBe(7);
  });

  it('across a DST change the walk yields one due time per local day', () => {
    const plan = dueTimes(
      row({
        scheduleCron: '30 2 * * *',
        timezone: 'Europe/Berlin',
        missedFirePolicy: 'catchUp',
        catchUpLimit: 10,
        nextFireAt: new Date('2026-03-27T01:30:00Z'),
      }),
      new Date('2026-03-31T12:00:00Z'),
    );
    expect(iso(plan.fire)).toEqual([
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
  });
});
