import type { Database } from '@aiops/db';
import type { ClaimedStep } from './sql/claim-steps.ts';
import { type InsertOutcome, insertRuns, type LeaseCreated, type NewRun } from './sql/create-run.ts';
import { type Logger, silentLogger } from './types.ts';

/** A worker in this process that runs the steps of runs it has just created, while it has capacity. */
export interface LocalExecutor {
  readonly workerId: string;
  readonly leaseMs: number;
  /** How many steps it would start now (0 when stopping or full). */
  capacity(): number;
  /** Starts steps leased to it. */
  adopt(steps: ClaimedStep[]): void;
}

/**
 * Creates runs in batches: requests that arrive while a batch commits go into the next one, so many
 * concurrent API calls share one transaction and one commit (a group commit). A lone request is
 * inserted at once. If a batch fails, its runs are retried one by one so one bad run cannot fail others.
 * With a local executor that has capacity, the new runs' ready steps are leased to it in the same
 * transaction and started at once (no claim round trip; the lease is a row, so a crash loses nothing).
 */
export class RunCreator {
  private queue: { run: NewRun; resolve: (o: InsertOutcome) => void; reject: (e: unknown) => void }[] = [];
  private running: Promise<void> | undefined;
  local: LocalExecutor | undefined;

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 256,
    private readonly log: Logger = silentLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(run: NewRun): Promise<InsertOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ run, resolve, reject });
      this.running ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const { outcomes } = await this.insert(batch.map((b) => b.run));
        for (const [i, b] of batch.entries()) b.resolve(outcomes[i]!);
      } catch (err) {
        if (batch.length === 1) {
          batch[0]!.reject(err);
          continue;
        }
        this.log.warn(
          { err, runs: batch.length },
          'creating a batch of runs failed; creating them one by one',
        );
        for (const b of batch) {
          try {
            const { outcomes } = await this.insert([b.run]);
            b.resolve(outcomes[0]!);
          } catch (e) {
            b.reject(e);
          }
        }
      }
    }
    this.running = undefined;
  }

  private async insert(runs: NewRun[]) {
    const local = this.local;
    const limit = local?.capacity() ?? 0;
    const lease: LeaseCreated | undefined =
      local && limit > 0 ? { workerId: local.workerId, limit, leaseMs: local.leaseMs } : undefined;
    const result = await insertRuns(this.db, runs, this.now(), lease);
    if (result.leased.length) local!.adopt(result.leased);
    return result;
  }
}
