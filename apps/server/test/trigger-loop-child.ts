/**
 * A worker process of the multi-process schedule test: runs the trigger loop (no step worker) on the
 * PostgreSQL database given, until killed. Prints "ready" once the loop runs.
 */
import { openDb } from '@aiops/db';
import { Runs } from '@aiops/engine';
import { TriggerLoop } from '../src/modules/triggers/scheduler.ts';

const url = process.argv[2]!;
const db = await openDb({ kind: 'postgres', url, poolSize: 3, migrate: false });
const log = {
  debug() {},
  info() {},
  warn() {},
  error(o: object, m?: string) {
    process.stderr.write(`${m} ${JSON.stringify(o)}\n`);
  },
};
const loop = new TriggerLoop({ db, runs: new Runs(db, log), log }, { maxSleepMs: 200 });
loop.start();
process.stdout.write('ready\n');
const stop = async () => {
  await loop.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
