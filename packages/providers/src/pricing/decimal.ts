/**
 * Exact money arithmetic. Prices are decimal strings in USD per million tokens; a price per token is then
 * an integer number of picodollars (1e-12 USD) as long as the price has at most 6 decimals, so
 * `tokens × price` is an exact integer product, with no floating-point drift.
 */

/** Decimals allowed in a price per million tokens (6 → integer picodollars per token). */
export const PRICE_DECIMALS = 6;
const PICO_DIGITS = 12;
const PRICE = /^(\d+)(?:\.(\d+))?$/;

/** `"0.15"` ($ per million tokens) → 150000n picodollars per token. Throws on anything but a plain decimal. */
export function picoUsdPerToken(pricePerMillion: string): bigint {
  const m = PRICE.exec(pricePerMillion);
  if (!m) throw new Error(`price "${pricePerMillion}" is not a non-negative decimal number`);
  const fraction = m[2] ?? '';
  if (fraction.length > PRICE_DECIMALS)
    throw new Error(`price "${pricePerMillion}" has more than ${PRICE_DECIMALS} decimals`);
  return BigInt(m[1]! + fraction.padEnd(PRICE_DECIMALS, '0'));
}

/** Picodollars as an exact decimal string of dollars, without trailing zeros: 1500000000n → "0.0015". */
export function picoToDecimal(pico: bigint): string {
  const negative = pico < 0n;
  const digits = (negative ? -pico : pico).toString().padStart(PICO_DIGITS + 1, '0');
  const whole = digits.slice(0, -PICO_DIGITS);
  const fraction = digits.slice(-PICO_DIGITS).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Picodollars as a JS number of dollars: the double nearest to the exact decimal (one rounding, no drift). */
export function picoToUsd(pico: bigint): number {
  return Number(picoToDecimal(pico));
}

/** A decimal string of dollars → picodollars (at most 12 decimals). */
export function decimalToPico(usd: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(usd);
  if (!m) throw new Error(`"${usd}" is not a decimal number`);
  const fraction = m[3] ?? '';
  if (fraction.length > PICO_DIGITS) throw new Error(`"${usd}" has more than ${PICO_DIGITS} decimals`);
  const value = BigInt(m[2]! + fraction.padEnd(PICO_DIGITS, '0'));
  return m[1] ? -value : value;
}

/** Dollars as a JS number → picodollars, rounded to the nearest picodollar (for budgets given as numbers). */
export function usdToPico(usd: number): bigint {
  if (!Number.isFinite(usd)) throw new Error(`${usd} is not a finite amount`);
  // toFixed(12) renders the double's value to 12 decimals exactly as decimal text, with no binary drift.
  return decimalToPico(usd.toFixed(PICO_DIGITS));
}
