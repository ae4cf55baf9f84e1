import type { Config } from '@aiops/config';
import { SecretBox } from '@aiops/core';
import { type Database, type OpenDbOptions, openDb } from '@aiops/db';
import { Worker } from '@aiops/engine';
import { createEmbeddingPort, warmTokenizer } from '@aiops/providers';
import type { FastifyInstance } from 'fastify';
import { type DestinationStream, destination } from 'pino';
import { buildApp } from './app.ts';
import { type DemoAccount, seedDemo } from './demo.ts';
import { DEFAULT_STUDIO_DIR } from './http/studio.ts';
import { JOBS, JobScheduler } from './jobs/index.ts';
import { assertSecretsDecrypt } from './key-rotation.ts';
import { jwtSecretFrom, loadKeyring } from './keyring.ts';
import { EvaluationLoop } from './modules/evaluations/online.ts';
import { integrationResolver } from './modules/integrations/model-port.ts';
import { startTriggerLoop } from './modules/triggers/loop.ts';

export interface RunningServer {
  app: FastifyInstance;
  db: Database;
  /** The URL the server listens on, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The step worker of this process (roles all and worker). */
  worker: Worker | undefined;
  /** Set when this start seeded the demo account (print it: the password is not stored in clear). */
  demo: DemoAccount | undefined;
  /** Stops accepting, finishes in-flight requests, closes the database. */
  close(): Promise<void>;
}

export function databaseOptions(config: Config): OpenDbOptions {
  return config.database.kind === 'postgres'
    ? { kind: 'postgres', url: config.database.url, poolSize: config.database.poolSize }
    : { kind: 'pglite', dataDir: config.database.dataDir };
}

/**
 * The log's way to stdout. Synchronous, so nothing is left to flush at exit: pino's default asynchronous
 * destination flushes at exit, and that flush retries a write to a pipe whose reader is gone (EPIPE)
 * forever, so `process.exit` never returned. A write that fails stops nothing: pino drops every line after
 * EPIPE, and any other write error (EIO from a closed terminal) is ignored here instead of crashing.
 */
export function stdoutLog(): DestinationStream {
  const stream = destination({ dest: 1, sync: true });
  stream.on('error', () => {});
  return stream;
}

/**
 * Opens the database (migrating it), builds the app, starts the step worker (roles all and worker) and
 * listens. A worker-only process serves the health probes.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const keyring = loadKeyring(config);
  const secrets = new SecretBox(keyring);
  // The tokenizer takes about a second to load; load it before any step holds a lease.
  warmTokenizer();
  const db = await openDb(databaseOptions(config));
  let app: FastifyInstance;
  let worker: Worker | undefined;
  let scheduler: JobScheduler | undefined;
  let triggers: { stop(): Promise<void> } | undefined;
  let evaluations: EvaluationLoop | undefined;
  let demo: DemoAccount | undefined;
  try {
    await assertSecretsDecrypt(db, secrets);
    app = await buildApp({
      db,
      secrets,
      api: config.role !== 'worker',
      studioDir: DEFAULT_STUDIO_DIR,
      logLevel: config.logLevel,
      logStream: stdoutLog(),
      bodyLimitBytes: config.bodyLimitBytes,
      trustProxy: config.trustProxy,
      settings: {
        publicUrl: config.publicUrl,
        jwtSecret: jwtSecretFrom(config, keyring),
        accessTokenTtlSeconds: config.auth.accessTokenTtlSeconds,
        refreshTokenTtlSeconds: config.auth.refreshTokenTtlSeconds,
        smtpUrl: config.mail.smtpUrl,
        mailFrom: config.mail.from,
        redisUrl: config.redisUrl,
        oauth: config.oauth,
        privateNetworkCategories: config.worker.privateNetworkCategories,
        catalogDir: config.catalogDir,
        archiveDir: config.archiveDir,
      },
    });
    if (config.demo && config.role !== 'worker') demo = await seedDemo(db);
    if (config.role !== 'api') {
      const embeddings = createEmbeddingPort({
        resolveIntegration: integrationResolver(db, secrets, config.worker.privateNetworkCategories),
      });
      worker = new Worker(db, app.engine.model, { ...config.worker, embeddings }, app.log);
      await worker.start();
      // Runs started through this process's API go straight to its worker while it has capacity.
      app.engine.runs.useLocalWorker(worker);
      // Calls waiting here for a run it finishes get the run's row from its completion batch.
      worker.reportTo(app.engine.watcher);
      scheduler = new JobScheduler(app.jobDeps, JOBS);
      scheduler.start();
      // Cron schedules, queued trigger firings and outbound events (modules/triggers/loop.ts).
      triggers = startTriggerLoop({ db, secrets, runs: app.engine.runs, log: app.log, config });
      // Online evaluation of finished runs by their attached evaluators (modules/evaluations/online.ts).
      evaluations = new EvaluationLoop(db, app.engine.model, app.log);
      evaluations.start();
    }
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await scheduler?.stop(0);
    await triggers?.stop();
    await evaluations?.stop();
    await worker?.stop(0);
    await db.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  return {
    app,
    db,
    worker,
    demo,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    // Stop accepting requests and finish those in flight; stop claiming steps and let those in flight
    // finish (or give them back); then close the database.
    async close() {
      await scheduler?.stop(Math.max(0, config.shutdownTimeoutMs - 1000));
      await app.close();
      await triggers?.stop();
      await evaluations?.stop();
      await worker?.stop(Math.max(0, config.shutdownTimeoutMs - 1000));
      await db.close();
    },
  };
}

/**
 * Graceful shutdown on SIGTERM/SIGINT: stop accepting (new requests get 503), let in-flight requests
 * finish, close the database, exit 0. If that takes longer than `timeoutMs`, exit 1.
 */
export function closeOnSignals(server: RunningServer, timeoutMs: number): void {
  let closing = false;
  // Direct writes to stdout/stderr (the CLI's) whose reader is gone must not crash the shutdown either.
  for (const out of [process.stdout, process.stderr]) out.on('error', () => {});
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    server.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      try {
        server.app.log.error({ timeoutMs }, 'shutdown timed out; exiting');
      } finally {
        process.exit(1);
      }
    }, timeoutMs);
    timer.unref();
    server
      .close()
      .then(() => {
        server.app.log.info('shutdown complete');
        process.exit(0);
      })
      .catch((err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
