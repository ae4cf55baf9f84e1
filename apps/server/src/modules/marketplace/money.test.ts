import { describe, expect, it } from 'vitest';
import { splitPrice, sum } from './money.ts';

describe('marketplace money', () => {
  it('takes a 30% fee rounded half-up to the cent, and the payout is exactly the rest', () => {
    expect(splitPrice('9.99')).toEqual({ price: '9.99', platformFee: '3.00', sellerPayout: '6.99' });
    expect(splitPrice('0.01')).toEqual({ price: '0.01', platformFee: '0.00', sellerPayout: '0.01' });
    expect(splitPrice('0.05')).toEqual({ price: '0.05', platformFee: '0.02', sellerPayout: '0.03' });
    expect(splitPrice('10')).toEqual({ price: '10.00', platformFee: '3.00', sellerPayout: '7.00' });
    expect(splitPrice('0')).toEqual({ price: '0.00', platformFee: '0.00', sellerPayout: '0.00' });
    expect(splitPrice('99999999.99')).toEqual({
      price: '99999999.99',
      platformFee: '30000000.00',
      sellerPayout: '69999999.99',
    });
  });
  it('fee + payout = price for every cent up to 100.00', () => {
    for (let c = 0; c <= 10_000; c++) {
      const price = (c / 100).toFixed(2);
      const s = splitPrice(price);
      expect(sum([s.platformFee, s.sellerPayout])).toBe(price);
    }
  });
});
