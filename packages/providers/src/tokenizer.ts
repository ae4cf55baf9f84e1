/**
 * Token counting with a real BPE tokenizer (tiktoken's `o200k_base`, the encoding of OpenAI's GPT-4o and
 * o-series models, through `gpt-tokenizer`), used for the simulator's usage, for estimates when a provider
 * reports no usage, and for the worst-case budget check before a call.
 *
 * Bounded work on any input (the API and the worker share the event loop):
 * - byte-pair merging is quadratic in the length of one pre-tokenized piece (a run of 100,000 × "A" is one
 *   piece and took minutes), so pieces longer than `PIECE_MAX_CHARS` are counted in slices of that length.
 *   A cut can change the count by at most one token per slice; ordinary text has no such pieces.
 * - counting stops after `BUDGET_MS` of work and extrapolates the rest at the rate counted so far (measured:
 *   1 MB of mixed text or of random characters in ~16 ms, within 0.4% of the exact count). Ordinary text
 *   counts at several MB/s, so prompts of hundreds of kB are exact; high-entropy text (every piece new to the
 *   merge cache) counts at ~0.4 MB/s.
 * Counts of recently seen strings are memoised: the engine sends the same prompts again and again.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { countTokens as countO200k, setMergeCacheSize } from 'gpt-tokenizer/encoding/o200k_base';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';

/** The encoding every count in this package uses. */
export const TOKENIZER_ENCODING = 'o200k_base';

/** Pieces longer than this are counted in slices (byte-pair merging is quadratic in a piece's length). */
export const PIECE_MAX_CHARS = 64;
/**
 * Counting stops being exact after this much CPU time; the rest of the text is extrapolated. 15 ms turned a
 * 30 kB prompt into an estimate on a machine whose two cores were shared by many processes (a busy core
 * counts more slowly even in CPU time): 50 ms keeps ordinary prompts exact there too.
 */
export const BUDGET_MS = 50;
/** Text is counted in windows of about this size, between which the time is checked. */
const WINDOW_CHARS = 4_096;

// Special-token markers ("<|endoftext|>") are counted as plain text, never an error.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
// The library's cache of merged pieces (default 100,000 entries) bounded to what repeated prompts need.
setMergeCacheSize(20_000);

/** Builds the encoder's tables now rather than on the first count (call it at process start). */
export function warmTokenizer(): void {
  countO200k('warm up', PLAIN_TEXT);
}

/** Strings longer than this are counted but not memoised (hashing them would cost a good part of a count). */
const MEMO_MAX_LENGTH = 32_768;
/** How many distinct strings the memo keeps; when full it starts again (cheaper than LRU bookkeeping). */
const MEMO_MAX_ENTRIES = 4_096;
const memo = new Map<string, number>();

/**
 * The number of tokens `text` encodes to, extrapolated past `budgetMs` of counting (`Infinity`: exact
 * whatever the time; such counts bypass the memo, which holds counts made with the default budget).
 */
export function countTokens(text: string, budgetMs = BUDGET_MS): number {
  if (text.length === 0) return 0;
  if (budgetMs !== BUDGET_MS) return countBounded(text, budgetMs);
  const cacheable = text.length <= MEMO_MAX_LENGTH;
  if (cacheable) {
    const hit = memo.get(text);
    if (hit !== undefined) return hit;
  }
  const n = countBounded(text, BUDGET_MS);
  if (cacheable) {
    if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
    memo.set(text, n);
  }
  return n;
}

/**
 * Exact count within a time budget: the text is counted in windows that end at piece boundaries, pieces
 * longer than PIECE_MAX_CHARS slice by slice; when the budget is spent, the rest is extrapolated at the
 * tokens-per-character rate of what was counted.
 */
function countBounded(text: string, budgetMs: number): number {
  const started = threadCpuMs();
  let total = 0;
  let from = 0;
  const spent = () => threadCpuMs() - started > budgetMs;
  const extrapolated = (done: number) => total + Math.round((total * (text.length - done)) / done);
  for (const m of text.matchAll(O200K_TOKEN_SPLIT_REGEX)) {
    const end = m.index + m[0].length;
    if (m[0].length > PIECE_MAX_CHARS) {
      if (m.index > from) total += countO200k(text.slice(from, m.index), PLAIN_TEXT);
      let done = m.index;
      for (const slice of slices(m[0], PIECE_MAX_CHARS)) {
        total += countO200k(slice, PLAIN_TEXT);
        done += slice.length;
        if (done < text.length && spent()) return extrapolated(done);
      }
    } else if (end - from >= WINDOW_CHARS) {
      total += countO200k(text.slice(from, end), PLAIN_TEXT);
    } else {
      continue;
    }
    from = end;
    if (from < text.length && spent()) return extrapolated(from);
  }
  if (from < text.length) total += countO200k(from === 0 ? text : text.slice(from), PLAIN_TEXT);
  return total;
}

/**
 * This thread's CPU time in ms: the budget is work the counting thread did, so a machine busy with other
 * processes (or a time slice lost to them) does not turn an exact count into an estimate, and neither do
 * the process's other threads (garbage collection, code-step sandboxes): `process.cpuUsage()` counts them
 * all, and on a loaded CI machine a 30 kB prompt became an estimate. Counting is synchronous, so on the
 * event loop's thread CPU time and wall time differ only by what the machine takes away.
 *
 * Linux gives a thread's time on CPU in nanoseconds in `/proc/thread-self/schedstat` (Node 20 has no
 * `process.threadCpuUsage`); the file is opened once per thread (a module instance belongs to one thread)
 * and re-read in place. Elsewhere, or if the file cannot be read, the process's CPU time is used.
 */
export function threadCpuMs(): number {
  if (schedstat === undefined) schedstat = openSchedstat();
  if (schedstat !== null) {
    const n = readSync(schedstat, schedstatBuffer, 0, schedstatBuffer.length, 0);
    const ns = Number.parseInt(schedstatBuffer.toString('latin1', 0, n), 10);
    if (Number.isFinite(ns)) return ns / 1e6;
  }
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

let schedstat: number | null | undefined;
const schedstatBuffer = Buffer.alloc(128);

function openSchedstat(): number | null {
  if (process.platform !== 'linux') return null;
  let fd: number | null = null;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
    const n = readSync(fd, schedstatBuffer, 0, schedstatBuffer.length, 0);
    // A kernel without scheduler statistics reads zeros: the process's time is the better measure then.
    if (Number.parseInt(schedstatBuffer.toString('latin1', 0, n), 10) > 0) return fd;
  } catch {
    // not readable here (a sandbox without /proc): fall back
  }
  if (fd !== null) closeSync(fd);
  return null;
}

/** Cuts `s` into pieces of at most `size` UTF-16 units, never between the halves of a surrogate pair. */
function* slices(s: string, size: number): Generator<string> {
  let i = 0;
  while (i < s.length) {
    let end = Math.min(i + size, s.length);
    if (end < s.length && isHighSurrogate(s.charCodeAt(end - 1))) end -= 1;
    yield s.slice(i, end);
    i = end;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
