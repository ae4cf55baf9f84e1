import { randomUUID } from 'node:crypto';
import type { ModelPort, SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import { Runs, RunWatcher } from '@aiops/engine';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import { API_PREFIX, registerAuth } from './http/auth.ts';
import { registerErrorHandling } from './http/errors.ts';
import { registerInputGuard } from './http/input-guard.ts';
import { serializeError } from './http/log-errors.ts';
import { redactUrl } from './http/log-url.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerOpenApi } from './http/openapi.ts';
import { RateLimits } from './http/rate-limit.ts';
import { registerSecurityHeaders } from './http/security-headers.ts';
import { registerStudio } from './http/studio.ts';
import { registerTenancy } from './http/tenant.ts';
import type { AppModule, ModuleDeps } from './module.ts';
import { agentMetricsModule } from './modules/agent-metrics/routes.ts';
import { agentSchedulesModule } from './modules/agent-schedules/routes.ts';
import { agentsModule } from './modules/agents/routes.ts';
import { alertsModule } from './modules/alerts/routes.ts';
import { analyticsModule } from './modules/analytics/routes.ts';
import { apiKeysModule } from './modules/api-keys/routes.ts';
import { auditLogsModule } from './modules/audit-logs/routes.ts';
import { authModule } from './modules/auth/routes.ts';
import { backupsModule } from './modules/backups/routes.ts';
import { registerApiUsageMeter } from './modules/billing/api-meter.ts';
import { billingModule } from './modules/billing/routes.ts';
import { catalogModule } from './modules/catalog/routes.ts';
import { codeModule } from './modules/code/routes.ts';
import { applyRuntimeConfig } from './modules/config/apply.ts';
import { registerFeatureGate } from './modules/config/gate.ts';
import { configModule } from './modules/config/routes.ts';
import { RuntimeConfig } from './modules/config/runtime.ts';
import { conversationsModule } from './modules/conversations/routes.ts';
import { costsModule } from './modules/costs/routes.ts';
import { datasetsModule } from './modules/datasets/routes.ts';
import { evaluationsModule } from './modules/evaluations/routes.ts';
import { eventsModule } from './modules/events/routes.ts';
import { experimentsModule } from './modules/experiments/routes.ts';
import { externalAgentsModule } from './modules/external-agents/routes.ts';
import { modelAliasesModule } from './modules/gateway/aliases.ts';
import { GATEWAY_PREFIX, gatewayRoutes } from './modules/gateway/routes.ts';
import { healthRoutes } from './modules/health/routes.ts';
import { createAppModelPort } from './modules/integrations/model-port.ts';
import { integrationsModule } from './modules/integrations/routes.ts';
import { learningModule } from './modules/learning/routes.ts';
import { marketplaceModule } from './modules/marketplace/routes.ts';
import { mcpRoutes } from './modules/mcp/routes.ts';
import { memoryModule } from './modules/memory/routes.ts';
import { observabilityModule } from './modules/observability/routes.ts';
import { orgTransferModule } from './modules/org-transfer/routes.ts';
import { organizationsModule } from './modules/organizations/routes.ts';
import { pricesModule } from './modules/prices/routes.ts';
import { retentionModule } from './modules/retention/routes.ts';
import { runsModule } from './modules/runs/routes.ts';
import { syncModule } from './modules/sync/routes.ts';
import { templatesModule } from './modules/templates/routes.ts';
import { terminologyModule } from './modules/terminology/routes.ts';
import { triggersModule } from './modules/triggers/routes.ts';
import { workflowsModule } from './modules/workflows/routes.ts';
import { ApiKeyCache } from './services/auth-cache.ts';
import { makeAuthenticator } from './services/authenticate.ts';
import { createMailer } from './services/mailer.ts';
import { modelConfigCacheOf } from './services/model-config-cache.ts';
import { DbResponseCache, PriceOverrides } from './services/model-data.ts';
import { registerOutbound } from './services/outbound.ts';
import { ManualPayments, type PaymentPort } from './services/payments.ts';
import { AccessTokens } from './services/tokens.ts';
import { resolveSettings, type SettingsInput } from './settings.ts';
import { VERSION } from './version.ts';

/**
 * The feature modules, each registered under /api/v1: one line per module, so branches merge cleanly.
 */
const MODULES: AppModule[] = [
  authModule,
  organizationsModule,
  orgTransferModule,
  apiKeysModule,
  auditLogsModule,
  agentsModule,
  workflowsModule,
  codeModule,
  runsModule,
  pricesModule,
  costsModule,
  memoryModule,
  integrationsModule,
  analyticsModule,
  conversationsModule,
  terminologyModule,
  learningModule,
  observabilityModule,
  billingModule,
  catalogModule,
  templatesModule,
  marketplaceModule,
  agentMetricsModule,
  retentionModule,
  triggersModule,
  eventsModule,
  syncModule,
  evaluationsModule,
  datasetsModule,
  experimentsModule,
  externalAgentsModule,
  agentSchedulesModule,
  alertsModule,
  modelAliasesModule,
  configModule,
  backupsModule,
];

export interface AppOptions {
  db: Database;
  /** Encrypts and decrypts secrets at rest (provider keys, MFA seeds, webhook secrets). */
  secrets: SecretBox;
  logLevel?: string;
  /** Where JSON log lines go (default stdout); tests pass a stream to read them. */
  logStream?: DestinationStream;
  bodyLimitBytes?: number;
  trustProxy?: boolean;
  /** Identity settings (token lifetimes, SMTP, Redis, OAuth, rate limits); defaults suit tests. */
  settings?: SettingsInput;
  /**
   * The model port agents call. Default: the real one (`createModelPort` with credentials from the
   * organization's integrations; `simulator:*` models need none); tests may pass their own.
   */
  model?: ModelPort;
  /** The organizations' price overrides, shared with the model port (default: a new reader). */
  prices?: PriceOverrides;
  /** Marketplace payments (default: the built-in manual/invoice provider). */
  payments?: PaymentPort;
  /** The bearer token `/metrics` scrapes must send (config's AIOPS_METRICS_TOKEN); undefined: open. */
  metricsToken?: string;
  /** false: only the health routes (a worker-only process). */
  api?: boolean;
  /** The studio's built files (apps/web/dist), served at `/`; omitted: no studio (tests of the API). */
  studioDir?: string;
}

/** Routes whose changes can change an API key's validity or permissions. */
const AUTH_AFFECTING = new Set([
  'api_key:manage',
  'member:manage',
  'organization:update',
  'billing:manage',
  'authenticated',
]);

/** Routes whose changes can affect how model calls are routed: integrations, aliases, organization settings. */
const MODEL_CONFIG_AFFECTING = new Set([...AUTH_AFFECTING, 'integration:manage']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Headers and fields whose values never reach a log line. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Secrets in a URL (invitation links, `?token=`, `?key=sk-…`) are masked before the URL is logged. */
export { redactUrl };

/** Builds the HTTP application: plugins, error handling and every module's routes. Does not listen. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      redact: { paths: LOG_REDACT, censor: '[redacted]' },
      serializers: {
        err: (e: Error) => serializeError(e),
        req: (req: FastifyRequest) => ({
          method: req.method,
          url: redactUrl(req.url),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: options.bodyLimitBytes ?? 1_048_576,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text/plain body on a JSON route is a wrong content type (415), not a string to validate.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // While shutting down, answers in flight close their keep-alive connection so the server can stop.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  registerErrorHandling(app);
  registerInputGuard(app);
  await registerSecurityHeaders(app);
  await registerOpenApi(app, VERSION);
  await app.register(cookie);

  const settings = resolveSettings(options.settings);
  const rateLimits = new RateLimits(settings.rateLimits, settings.redisUrl);
  const mailer = createMailer({ smtpUrl: settings.smtpUrl, from: settings.mailFrom, log: app.log });
  const tokens = new AccessTokens(settings.jwtSecret, settings.accessTokenTtlSeconds);
  const prices = options.prices ?? new PriceOverrides(options.db);
  const engine = {
    runs: new Runs(options.db, app.log),
    watcher: new RunWatcher(options.db),
    model:
      options.model ??
      createAppModelPort({
        db: options.db,
        secrets: options.secrets,
        log: app.log,
        priceOverrides: prices.lookup,
        cache: new DbResponseCache(options.db),
        privateNetworkCategories: settings.privateNetworkCategories,
      }),
  };
  const apiKeyCache = new ApiKeyCache();
  await apiKeyCache.start(options.db);
  // listening before the first request, so that its lookups are cached (per database handle, see the file)
  const modelConfig = modelConfigCacheOf(options.db);
  await modelConfig.listen();
  const runtimeConfig = new RuntimeConfig(options.db, app.log);
  await runtimeConfig.start();
  applyRuntimeConfig(runtimeConfig, { log: app.log, baseLogLevel: options.logLevel ?? 'info', rateLimits });
  const deps: ModuleDeps = {
    db: options.db,
    secrets: options.secrets,
    settings,
    mailer,
    tokens,
    rateLimits,
    engine,
    apiKeyCache,
    prices,
    payments: options.payments ?? new ManualPayments(),
    runtimeConfig,
  };
  app.decorate('engine', engine);
  app.decorate('runtimeConfig', runtimeConfig);
  app.decorate('jobDeps', { db: options.db, secrets: options.secrets, mailer, settings, log: app.log });
  registerOutbound(app, settings.privateNetworkCategories);
  app.addHook('onClose', async () => {
    await engine.watcher.close();
    await apiKeyCache.stop();
    await runtimeConfig.stop();
    mailer.close();
    await rateLimits.close();
  });
  registerTenancy(app, options.db);
  registerAuth(app, { authenticate: makeAuthenticator(deps), rateLimits });
  registerFeatureGate(app, runtimeConfig);
  registerApiUsageMeter(app, options.db);
  // A change that can affect what an API key may do, or how model calls are routed, clears this process's
  // caches before the answer leaves (other processes learn of it through the database's NOTIFY).
  app.addHook('onSend', async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (request.method === 'GET' || reply.statusCode >= 400 || !permission) return;
    if (AUTH_AFFECTING.has(permission)) apiKeyCache.clear();
    if (MODEL_CONFIG_AFFECTING.has(permission)) modelConfig.clear();
  });

  await app.register(healthRoutes(options.db, VERSION));
  registerMetrics(app, options.db, options.metricsToken);
  if (options.api !== false) {
    for (const module of MODULES) await app.register(module(deps), { prefix: API_PREFIX });
    await app.register(gatewayRoutes(deps), { prefix: GATEWAY_PREFIX });
    await app.register(mcpRoutes(deps));
    if (options.studioDir) await registerStudio(app, options.studioDir);
  }
  return app;
}
