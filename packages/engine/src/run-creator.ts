import type { Database } from '@aiops/db';
import { type InsertOutcome, insertRuns, type NewRun } from './sql/create-run.ts';
import { type Logger, silentLogger } from './types.ts';

/**
 * Creates runs in batches: requests that arrive while a batch commits go into the next one, so many
 * concurrent API calls share one transaction and one commit (a group commit). A lone request is
 * inserted at once. If a batch fails, its runs are retried one by one so one bad run cannot fail others.
 */
export class RunCreator {
  private queue: { run: NewRun; resolve: (o: InsertOutcome) => void; reject: (e: unknown) => void }[] = [];
  private running: Promise<void> | undefined;

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
        const outcomes = await insertRuns(
          this.db,
          batch.map((b) => b.run),
          this.now(),
        );
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
            const [outcome] = await insertRuns(this.db, [b.run], this.now());
            b.resolve(outcome!);
          } catch (e) {
            b.reject(e);
          }
        }
      }
    }
    this.running = undefined;
  }
}
