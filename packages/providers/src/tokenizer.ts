/**
 * Token counting with a real BPE tokenizer (tiktoken's `o200k_base`, the encoding of OpenAI's GPT-4o and
 * o-series models), used for the simulator's usage, for estimates when a provider reports no usage, and for
 * the worst-case budget check before a call.
 *
 * Building the encoder parses ~200k ranks (≈0.6 s), so it is built once per process, on first use (or by
 * `warmTokenizer()` at start-up). Counts of recently seen strings are memoised: the engine sends the same
 * prompts again and again, and a lookup costs far less than re-encoding.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';

/** The encoding every count in this package uses. */
export const TOKENIZER_ENCODING = 'o200k_base';

let encoder: Tiktoken | undefined;

function getEncoder(): Tiktoken {
  encoder ??= new Tiktoken(o200kBase);
  return encoder;
}

/** Builds the encoder now rather than on the first count (call it at process start to keep the first call fast). */
export function warmTokenizer(): void {
  getEncoder();
}

/** Strings longer than this are counted but not memoised (hashing them would cost a good part of a count). */
const MEMO_MAX_LENGTH = 32_768;
/** How many distinct strings the memo keeps; when full it starts again (cheaper than LRU bookkeeping). */
const MEMO_MAX_ENTRIES = 4_096;
const memo = new Map<string, number>();

/** The number of tokens `text` encodes to. Special-token markers in the text are counted as plain text. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const cacheable = text.length <= MEMO_MAX_LENGTH;
  if (cacheable) {
    const hit = memo.get(text);
    if (hit !== undefined) return hit;
  }
  // allowedSpecial [] and disallowedSpecial []: text such as "<|endoftext|>" is ordinary text, never an error.
  const n = getEncoder().encode(text, [], []).length;
  if (cacheable) {
    if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
    memo.set(text, n);
  }
  return n;
}
