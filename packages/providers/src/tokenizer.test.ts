import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { countTokens as libraryCount } from 'gpt-tokenizer/encoding/o200k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_MS, countTokens, PIECE_MAX_CHARS, threadCpuMs, warmTokenizer } from './tokenizer.ts';

// Another implementation of o200k_base, so counts are checked against the encoding, not our wrapper.
const reference = new Tiktoken(o200kBase);
const exact = (s: string) => reference.encode(s, [], []).length;

/**
 * The work one synchronous call does (what it blocks the event loop for): this thread's CPU time, as the
 * budget counts it. Not the process's: that adds the garbage collector's helper threads and any other thread
 * of the test process, working in parallel (CI failed so once: 201.2 ms for 'a x 1M' against 200).
 */
function timed<T>(fn: () => T): { value: T; ms: number } {
  const before = threadCpuMs();
  const value = fn();
  return { value, ms: threadCpuMs() - before };
}

const randomText = (n: number, from: number, span: number) =>
  Array.from(randomBytes(n), (b) => String.fromCharCode(from + (b % span))).join('');

beforeAll(() => warmTokenizer());

describe('countTokens', () => {
  // The counting itself, without a budget: with one, a garbage collection on this thread (test files share
  // a process in CI) could spend it and make a 30 kB count an estimate (CI failed so twice).
  it('counts ordinary text exactly, special-token markers as plain text', () => {
    const words = [
      'the',
      'quick',
      'brown',
      'fox',
      'Hello,',
      'world!',
      '42',
      'naïve',
      '日本語',
      '{"a":1}',
      '😀',
    ];
    let text = '<|endoftext|> ';
    for (let i = 0; text.length < 30_000; i++)
      text += `${words[(i * 7 + 3) % words.length]}${i % 13 ? ' ' : '\n'}`;
    for (const s of ['a', 'Hello, world!', '  leading and trailing  ', text.slice(0, 500), text]) {
      expect(countTokens(s, Number.POSITIVE_INFINITY), s.slice(0, 40)).toBe(exact(s));
    }
  });

  it('counts a long run of one character in slices: off by at most one token per slice', () => {
    for (const s of ['A'.repeat(2_000), '!'.repeat(1_500), ` ${'語'.repeat(700)}`]) {
      const slices = Math.ceil(s.length / PIECE_MAX_CHARS);
      expect(
        Math.abs(countTokens(s, Number.POSITIVE_INFINITY) - exact(s)),
        s.slice(0, 5),
      ).toBeLessThanOrEqual(slices);
    }
  });

  it('never blocks the event loop for long, whatever the input', () => {
    const pathological = {
      'A x 100k': 'A'.repeat(100_000),
      'a x 1M': 'a'.repeat(1_000_000),
      'spaces then x': `${' '.repeat(100_000)}x`,
      'digits x 100k': '7'.repeat(100_000),
      'combining marks': `e${'\u0301'.repeat(100_000)}`,
      'emoji x 50k': '😀'.repeat(50_000),
      'random upper 100k': randomText(100_000, 65, 26),
      'random ascii 1M': randomText(1_000_000, 32, 95),
      "'s x 50k": "'s".repeat(50_000),
    };
    for (const [name, text] of Object.entries(pathological)) {
      const { value, ms } = timed(() => countTokens(text));
      expect(value, name).toBeGreaterThan(0);
      // The budget plus one window or slice; 100 ms leaves room for a loaded machine.
      expect(ms, `${name}: ${ms.toFixed(1)} ms`).toBeLessThan(Math.max(100, BUDGET_MS * 4));
    }
  });

  it('extrapolates past its budget at the rate counted so far: close to the exact count', () => {
    const text = randomText(200_000, 32, 95);
    const { value, ms } = timed(() => countTokens(text));
    const truth = libraryCount(text, { disallowedSpecial: new Set() });
    expect(ms).toBeLessThan(100);
    expect(Math.abs(value - truth) / truth).toBeLessThan(0.02);
  });
});

describe('the counting budget', () => {
  it("is this thread's CPU time: another thread of the process busy does not spend it", async () => {
    // Another thread spins until told to stop, while this one sleeps (Atomics.wait blocks without using
    // the CPU) until the process has used 100 ms of CPU: however loaded the machine, that is the spinner's.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const spinner = new Worker(
      'const { workerData: stop } = require("node:worker_threads"); let x = 0; while (Atomics.load(stop, 0) === 0) x++;',
      { eval: true, workerData: stop },
    );
    await new Promise((resolve) => spinner.once('online', resolve));
    const processBefore = process.cpuUsage();
    const threadBefore = threadCpuMs();
    const processMs = () => {
      const used = process.cpuUsage(processBefore);
      return (used.user + used.system) / 1000;
    };
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 20_000;
    while (processMs() < 100 && Date.now() < deadline) Atomics.wait(sleep, 0, 0, 10);
    const thread = threadCpuMs() - threadBefore;
    const spent = processMs();
    Atomics.store(stop, 0, 1);
    await spinner.terminate();
    expect(spent, 'the other thread spun: the process used CPU').toBeGreaterThanOrEqual(100);
    if (process.platform === 'linux') expect(thread, 'this thread slept').toBeLessThan(spent / 2);
  });
});
