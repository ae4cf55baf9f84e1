import type { Config } from '@aiops/config';
import { SecretBox } from '@aiops/core';
import { type Database, isDatabaseUnavailable, type OpenDbOptions, openDb } from '@aiops/db';
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
import { AlertNotifier } from './modules/alerts/notify.ts';
import { EvaluationLoop } from './modules/evaluations/online.ts';
import { makeEvaluationEmbedder } from './modules/evaluations/similarity.ts';
import { ExperimentLoop } from './modules/experiments/driver.ts';
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

/** How long a start waits for an unreachable database (restarting, not up yet) before it gives up. */
const DB_START_WAIT_MS = 60_000;

/**
 * Opens the database; while it cannot be reached (PostgreSQL starting or restarting, the network down),
 * retries with backoff for up to a minute, so a process started before its database (compose, a
 * supervisor restarting it during an outage) comes up on its own. Any other error stops the start.
 */
export async function openDbWhenReachable(
  options: OpenDbOptions,
  waitMs = DB_START_WAIT_MS,
): Promise<Database> {
  const until = Date.now() + waitMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await openDb(options);
    } catch (e) {
      if (!isDatabaseUnavailable(e) || Date.now() + delay > until) throw e;
      process.stderr.write(`aiops: database unreachable (${(e as Error).message}); retrying\n`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
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
  const db = await openDbWhenReachable(databaseOptions(config));
  let app: FastifyInstance;
  let worker: Worker | undefined;
  let scheduler: JobScheduler | undefined;
  let triggers: { stop(): Promise<void> } | undefined;
  let evaluations: EvaluationLoop | undefined;
  let experimentLoop: ExperimentLoop | undefined;
  let alertNotifier: AlertNotifier | undefined;
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
      metricsToken: config.metricsToken,
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
        platformAdminEmails: config.platformAdminEmails,
        backup: config.backup,
      },
    });
    if (config.demo && config.role !== 'worker') demo = await seedDemo(db);
    if (config.role !== 'api') {
      const embeddings = createEmbeddingPort({
        resolveIntegration: integrationResolver(db, secrets, config.worker.privateNetworkCategories),
      });
      worker = new Worker(db, app.engine.model, { ...config.worker, embeddings, secrets }, app.log);
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
      const evaluationEmbedder = makeEvaluationEmbedder(db, embeddings);
      evaluations = new EvaluationLoop(db, { model: app.engine.model, embed: evaluationEmbedder }, app.log);
      evaluations.start();
      // Experiments: start dataset items' runs up to each experiment's parallelism, score finished ones.
      experimentLoop = new ExperimentLoop({
        db,
        runs: app.engine.runs,
        model: app.engine.model,
        embed: evaluationEmbedder,
        log: app.log,
      });
      experimentLoop.start();
      // Alert notifications (email, Slack, webhook) queued with each alert change (modules/alerts/notify.ts).
      alertNotifier = new AlertNotifier(app.jobDeps);
      alertNotifier.start();
    }
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await scheduler?.stop(0);
    await triggers?.stop();
    await evaluations?.stop();
    await experimentLoop?.stop();
    await alertNotifier?.stop();
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
      await experimentLoop?.stop();
      await alertNotifier?.stop();
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
