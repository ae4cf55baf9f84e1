import type { RunDetail, RunEvent } from '@aiops/sdk';

/** Shows a run as it goes: a redrawn table on a terminal, one plain line per event otherwise. */
export interface Progress {
  event(e: RunEvent): void;
  /** The run ended: the final table (TTY) or summary line (plain). */
  done(run: RunDetail): void;
}

interface StepState {
  status: string;
  attempt: number;
  tokens: number;
  cost: number;
  durationMs: number | null;
  error: string | undefined;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const money = (usd: number) => `$${usd.toFixed(usd !== 0 && usd < 0.01 ? 6 : 4)}`;
const ms = (v: number | null | undefined) =>
  v === null || v === undefined ? '' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`;
const errorMessage = (data: Record<string, unknown>) => {
  const e = data.error as { message?: unknown; code?: unknown } | undefined;
  return e ? String(e.message ?? e.code ?? 'error') : undefined;
};

/** One line per event, for logs and pipes. */
export function plainLine(e: RunEvent): string | undefined {
  const d = e.data;
  const node = e.nodeId ?? '';
  switch (e.type) {
    case 'run.queued':
      return `run queued (version ${d.version ?? '?'})`;
    case 'run.running':
      return 'run running';
    case 'step.started':
      return `step ${node} started (attempt ${d.attempt ?? 1})`;
    case 'step.completed': {
      const t = d.tokens as { total?: number } | undefined;
      return `step ${node} completed in ${ms(num(d.durationMs))}, ${num(t?.total)} tokens, ${money(num(d.cost))}`;
    }
    case 'step.failed':
      return `step ${node} failed (attempt ${d.attempt ?? 1}): ${errorMessage(d) ?? 'error'}`;
    case 'step.skipped':
      return `step ${node} skipped`;
    case 'step.cancelled':
      return `step ${node} cancelled`;
    case 'log': {
      const level = String(d.level ?? 'info').toUpperCase();
      return `${e.at} ${level.padEnd(5)} ${node ? `${node}: ` : ''}${String(d.message ?? '')}`;
    }
    default:
      if (['run.completed', 'run.failed', 'run.cancelled', 'run.timeout'].includes(e.type)) {
        const err = errorMessage(d);
        return `run ${e.type.slice(4)} in ${ms(num(d.durationMs))}, ${num(d.totalTokens)} tokens, ${money(num(d.cost))}${err ? `: ${err}` : ''}`;
      }
      return e.type.startsWith('run.') ? `run ${e.type.slice(4)}` : undefined;
  }
}

export function plainProgress(write: (s: string) => void): Progress {
  return {
    event(e) {
      const line = plainLine(e);
      if (line) write(`${line}\n`);
    },
    done() {},
  };
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ICONS: Record<string, string> = {
  completed: '✔',
  failed: '✖',
  skipped: '○',
  cancelled: '■',
  pending: '·',
  waiting: '⏸',
};

/** A table of the steps redrawn in place (spinner, state, tokens, cost) under a header line. */
export function ttyProgress(stream: NodeJS.WriteStream, title: string): Progress {
  const steps = new Map<string, StepState>();
  let runStatus = 'queued';
  let drawn = 0;
  let frame = 0;
  const started = Date.now();
  const render = (final = false) => {
    const spin = FRAMES[frame++ % FRAMES.length] ?? '';
    let tokens = 0;
    let cost = 0;
    for (const s of steps.values()) {
      tokens += s.tokens;
      cost += s.cost;
    }
    const width = Math.max(4, ...[...steps.keys()].map((k) => k.length));
    const lines = [
      `${final ? (ICONS[runStatus] ?? ' ') : spin} ${title}  ${runStatus}  ${tokens} tokens  ${money(cost)}  ${ms(Date.now() - started)}`,
      ...[...steps].map(([id, s]) => {
        const icon = s.status === 'running' ? spin : (ICONS[s.status] ?? ' ');
        const attempt = s.attempt > 1 ? ` (attempt ${s.attempt})` : '';
        const detail = s.error ? `  ${s.error}` : '';
        return `  ${icon} ${id.padEnd(width)}  ${(s.status + attempt).padEnd(20)} ${String(s.tokens).padStart(7)} tok  ${money(s.cost).padStart(10)}  ${ms(s.durationMs).padStart(8)}${detail}`;
      }),
    ];
    const cols = stream.columns || 120;
    const text = lines.map((l) => (l.length > cols ? `${l.slice(0, cols - 1)}…` : l));
    stream.write(`${drawn ? `\x1b[${drawn}F\x1b[J` : ''}${text.join('\n')}\n`);
    drawn = text.length;
  };
  const timer = setInterval(() => render(), 100);
  timer.unref();
  return {
    event(e) {
      if (e.type.startsWith('run.')) runStatus = e.type.slice(4);
      if (!e.type.startsWith('step.') || !e.nodeId) return;
      const s = steps.get(e.nodeId) ?? {
        status: 'pending',
        attempt: 1,
        tokens: 0,
        cost: 0,
        durationMs: null,
        error: undefined,
      };
      s.status = e.type.slice(5) === 'started' ? 'running' : e.type.slice(5);
      s.attempt = num(e.data.attempt) || s.attempt;
      if (e.type !== 'step.started') {
        s.tokens += num((e.data.tokens as { total?: number } | undefined)?.total);
        s.cost += num(e.data.cost);
        s.durationMs = num(e.data.durationMs);
        s.error = errorMessage(e.data);
      }
      steps.set(e.nodeId, s);
    },
    done(run) {
      clearInterval(timer);
      runStatus = run.status;
      render(true);
    },
  };
}
