import { Decimal } from 'decimal.js';

/** The platform's share of every sale. */
export const PLATFORM_FEE_RATE = '0.30';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

/**
 * Price, platform fee and seller payout in exact decimals: the fee is 30% of the price rounded half-up to
 * the cent, the payout is the rest, so fee + payout = price always (9.99 → 3.00 + 6.99; 0.01 → 0.00 + 0.01).
 */
export function splitPrice(price: string): { price: string; platformFee: string; sellerPayout: string } {
  const p = new D(price);
  if (!p.isFinite() || p.isNegative()) throw new Error(`not a price: ${price}`);
  const cents = p.toDecimalPlaces(2);
  const fee = cents.mul(PLATFORM_FEE_RATE).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  return { price: cents.toFixed(2), platformFee: fee.toFixed(2), sellerPayout: cents.minus(fee).toFixed(2) };
}

/** Exact sum of decimal strings, as a 2-decimal string. */
export const sum = (values: string[]) => values.reduce((a, v) => a.plus(v), new D(0)).toFixed(2);

export const isZero = (amount: string) => new D(amount).isZero();
