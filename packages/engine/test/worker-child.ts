/**
 * A worker in its own process, for the crash tests: `node --import tsx worker-child.ts <DATABASE_URL> <id>`.
 * Prints "ready" once it listens for work. The test SIGKILLs it at random moments.
 */
import { openDb } from '@aiops/db';
import { createSimulatorProvider, warmTokenizer } from '@aiops/providers';
import { Worker } from '../src/index.ts';

const [url, id] = process.argv.slice(2);
warmTokenizer();
const db = await openDb({ kind: 'postgres', url: url!, poolSize: 4, migrate: false });
const worker = new Worker(db, createSimulatorProvider(), {
  workerId: id!,
  concurrency: 4,
  claimBatch: 4,
  leaseMs: 1000,
  heartbeatMs: 250,
  pollMs: 50,
  sweepMs: 200,
});
await worker.start();
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await worker.stop(2000);
  await db.close();
  process.exit(0);
});
