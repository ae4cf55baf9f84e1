import { z } from 'zod';

/**
 * Numbers bounded by the column they are stored in, so an out-of-range value is a 400 from the schema
 * rather than a 500 from PostgreSQL ("integer out of range", "value out of range: underflow").
 */

/** The largest value of PostgreSQL's `integer` (int4). */
export const INT4_MAX = 2_147_483_647;
/** The smallest positive normal `real` (float4); PostgreSQL refuses what underflows below it. */
export const FLOAT4_MIN_NORMAL = 1.1754943508222875e-38;

/** A version number: an integer from 1 to INT4_MAX. */
export const versionNumber = () => z.number().int().min(1).max(INT4_MAX);

/** The same, from a path or query string. */
export const versionParam = () => z.coerce.number().int().min(1).max(INT4_MAX);

/** A number stored as `real`: `0` or a magnitude a float4 can hold without underflow, within [min, max]. */
export const real4 = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine((x) => x === 0 || Math.abs(x) >= FLOAT4_MIN_NORMAL, {
      message: `is too small to store: use 0 or a magnitude of at least ${FLOAT4_MIN_NORMAL}`,
    });
