/**
 * Groups concurrent calls into one: items added while no flush is running, or while one runs, go into the
 * next flush (one statement for many webhook requests instead of one transaction each). Each caller gets
 * its own item's result, or the flush's error.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly max = 256,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.max);
      try {
        const out = await this.flush(batch.map((b) => b.item));
        for (const [i, b] of batch.entries()) b.resolve(out[i]!);
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.flushing = false;
  }
}
