import type { ModelUsage } from '@aiops/core';
import { describe, expect, it } from 'vitest';
import { decimalToPico, picoToDecimal, picoUsdPerToken, usdToPico } from './decimal.ts';
import { costOf, type ModelPrice, priceFor, validatePrices } from './price.ts';

const usage = (over: Partial<ModelUsage>): ModelUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  reasoningTokens: 0,
  totalTokens: 0,
  estimated: false,
  ...over,
});

describe('decimal money', () => {
  it('turns prices per million into integer picodollars per token and back, exactly', () => {
    expect(picoUsdPerToken('0.15')).toBe(150_000n);
    expect(picoUsdPerToken('3')).toBe(3_000_000n);
    expect(picoUsdPerToken('0.000001')).toBe(1n);
    expect(() => picoUsdPerToken('0.0000001')).toThrow(/more than 6 decimals/);
    expect(() => picoUsdPerToken('-1')).toThrow();
    expect(() => picoUsdPerToken('1e-3')).toThrow();
    expect(picoToDecimal(1_500_000_000n)).toBe('0.0015');
    expect(picoToDecimal(12_000_000_000_000n)).toBe('12');
    expect(picoToDecimal(0n)).toBe('0');
    expect(decimalToPico('0.0015')).toBe(1_500_000_000n);
    expect(usdToPico(0.1)).toBe(100_000_000_000n);
  });

  it('has no float drift where floating point has it', () => {
    // 0.1 + 0.2 in floating point is 0.30000000000000004; in picodollars it is exact.
    const sum = decimalToPico('0.1') + decimalToPico('0.2');
    expect(picoToDecimal(sum)).toBe('0.3');
  });
});

describe('priceFor', () => {
  const catalog: ModelPrice[] = [
    {
      model: 'openai:gpt-x',
      effectiveFrom: '2024-01-01',
      effectiveTo: '2025-01-01',
      input: '5',
      output: '15',
    },
    { model: 'openai:gpt-x', effectiveFrom: '2025-01-01', input: '2.5', output: '10' },
    { model: 'ollama:*', effectiveFrom: '2023-01-01', input: '0', output: '0' },
  ];

  it('takes the entry in force on the day, the undated id for a snapshot, and provider:* last', () => {
    expect(priceFor('openai:gpt-x', new Date('2024-06-01'), [], catalog)?.input).toBe('5');
    expect(priceFor('openai:gpt-x', new Date('2025-03-01'), [], catalog)?.input).toBe('2.5');
    expect(priceFor('openai:gpt-x-2025-02-01', new Date('2025-03-01'), [], catalog)?.input).toBe('2.5');
    expect(priceFor('openai:gpt-x', new Date('2023-06-01'), [], catalog)).toBeUndefined();
    expect(priceFor('ollama:llama3.2', new Date('2025-03-01'), [], catalog)?.output).toBe('0');
    expect(priceFor('anthropic:unknown', new Date('2025-03-01'), [], catalog)).toBeUndefined();
  });

  it('prefers an organization override to the catalog', () => {
    const overrides: ModelPrice[] = [
      { model: 'openai:gpt-x', effectiveFrom: '2025-02-01', input: '1', output: '4' },
    ];
    expect(priceFor('openai:gpt-x', new Date('2025-03-01'), overrides, catalog)?.input).toBe('1');
    // before the override took effect, the catalog applies
    expect(priceFor('openai:gpt-x', new Date('2025-01-15'), overrides, catalog)?.input).toBe('2.5');
  });

  it('validates a price list', () => {
    expect(validatePrices(catalog)).toEqual([]);
    expect(
      validatePrices([{ model: 'nope', effectiveFrom: '2025', input: '1.1234567', output: 'x' }]),
    ).toHaveLength(4);
  });
});

describe('costOf', () => {
  const price: ModelPrice = {
    model: 'p:m',
    effectiveFrom: '2025-01-01',
    input: '2.5',
    output: '10',
    cachedInput: '1.25',
    cacheWrite: '3.125',
    reasoning: '12',
  };

  it('charges each kind of token at its own rate, in exact picodollars', () => {
    const u = usage({
      inputTokens: 1_000,
      cachedInputTokens: 300,
      cacheWriteInputTokens: 100,
      outputTokens: 500,
      reasoningTokens: 200,
    });
    const expected =
      600n * picoUsdPerToken('2.5') +
      300n * picoUsdPerToken('1.25') +
      100n * picoUsdPerToken('3.125') +
      300n * picoUsdPerToken('10') +
      200n * picoUsdPerToken('12');
    const cost = costOf(u, price);
    expect(cost.picoUsd).toBe(expected);
    expect(cost.usdDecimal).toBe(picoToDecimal(expected));
    expect(cost.usd).toBe(Number(picoToDecimal(expected)));
  });

  it('defaults cached input and cache writes to the input rate and reasoning to the output rate', () => {
    const plain: ModelPrice = { model: 'p:m', effectiveFrom: '2025-01-01', input: '0.15', output: '0.6' };
    const u = usage({ inputTokens: 10, cachedInputTokens: 4, outputTokens: 7, reasoningTokens: 3 });
    expect(costOf(u, plain).picoUsd).toBe(10n * picoUsdPerToken('0.15') + 7n * picoUsdPerToken('0.6'));
  });

  it('is zero without a price', () => {
    expect(costOf(usage({ inputTokens: 10, outputTokens: 10 }), undefined).usd).toBe(0);
  });
});
