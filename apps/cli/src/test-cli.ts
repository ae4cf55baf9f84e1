import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const MAIN = path.resolve(import.meta.dirname, 'main.ts');
const TSX = import.meta.resolve('tsx');

export interface CliProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
  /** Waits until stdout matches `pattern` (from `from` on); fails if the process exits first. */
  waitFor(pattern: RegExp, ms?: number, from?: number): Promise<RegExpMatchArray>;
}

/** Runs the `aiops` command as a child process (for tests); `children` collects them for cleanup. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  children: ChildProcess[] = [],
): CliProcess {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { env, cwd });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    async waitFor(pattern, ms = 120_000, from = 0) {
      const start = Date.now();
      while (Date.now() - start < ms) {
        const m = stdout.slice(from).match(pattern);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${pattern}; stdout: ${stdout.slice(-2000)}; stderr: ${stderr}`);
    },
  };
}
