import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './index.ts';

describe('loadConfig', () => {
  it('defaults to PGlite in ./.aiops/data on 127.0.0.1:3000', () => {
    const c = loadConfig({});
    expect(c.database).toEqual({ kind: 'pglite', dataDir: './.aiops/data' });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(3000);
    expect(c.logLevel).toBe('info');
  });

  it('uses PostgreSQL when DATABASE_URL is set', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/aiops', AIOPS_DB_POOL_SIZE: '20' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/aiops', poolSize: 20 });
  });

  it('reads tracing and the metrics token', () => {
    expect(loadConfig({}).worker.tracing).toBe(true);
    expect(loadConfig({}).metricsToken).toBeUndefined();
    const c = loadConfig({ AIOPS_TRACING: 'off', AIOPS_METRICS_TOKEN: 'scrape-token-0123456789' });
    expect(c.worker.tracing).toBe(false);
    expect(c.metricsToken).toBe('scrape-token-0123456789');
  });

  it('reads the code-step thread count', () => {
    expect(loadConfig({}).worker.codeThreads).toBe(2);
    expect(loadConfig({ AIOPS_CODE_THREADS: '6' }).worker.codeThreads).toBe(6);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.kind).toBe('pglite');
  });

  it('flags override the environment', () => {
    const c = loadConfig({ PORT: '4000', AIOPS_DATA_DIR: '/a' }, { port: 5000, dataDir: '/b' });
    expect(c.port).toBe(5000);
    expect(c.database).toEqual({ kind: 'pglite', dataDir: '/b' });
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT = "abc": .+/],
    [{ PORT: '70000' }, /^Invalid configuration: PORT = "70000": .*65535/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL = "loud": .*info/],
    [
      { DATABASE_URL: 'mysql://x' },
      /^Invalid configuration: DATABASE_URL = "mysql:\/\/x": must start with postgres:\/\//,
    ],
    [{ AIOPS_DB_POOL_SIZE: '0' }, /^Invalid configuration: AIOPS_DB_POOL_SIZE = "0"/],
    [{ NODE_ENV: 'staging' }, /^Invalid configuration: NODE_ENV = "staging"/],
    [{ AIOPS_TRUST_PROXY: 'yes' }, /^Invalid configuration: AIOPS_TRUST_PROXY = "yes"/],
    [{ AIOPS_TRACING: 'false' }, /^Invalid configuration: AIOPS_TRACING = "false": must be on or off/],
    [{ AIOPS_CODE_THREADS: '0' }, /^Invalid configuration: AIOPS_CODE_THREADS = "0"/],
    [
      { AIOPS_METRICS_TOKEN: 'short' },
      /^Invalid configuration: AIOPS_METRICS_TOKEN = "\*\*\*": .*16 characters/,
    ],
  ])('%o fails with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (e) {
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('reads what allowing private networks unlocks (AIOPS_PRIVATE_NETWORK_CATEGORIES)', () => {
    expect(loadConfig({}).worker.privateNetworkCategories).toBeUndefined();
    expect(loadConfig({ AIOPS_PRIVATE_NETWORK_CATEGORIES: 'none' }).worker.privateNetworkCategories).toEqual(
      [],
    );
    expect(
      loadConfig({ AIOPS_PRIVATE_NETWORK_CATEGORIES: 'loopback, private' }).worker.privateNetworkCategories,
    ).toEqual(['loopback', 'private']);
    expect(() => loadConfig({ AIOPS_PRIVATE_NETWORK_CATEGORIES: 'loopback,public' })).toThrow(
      /^Invalid configuration: AIOPS_PRIVATE_NETWORK_CATEGORIES = "loopback,public": must be none or/,
    );
  });

  it('reads the agent catalog directory (AIOPS_CATALOG_DIR); unset: the shipped starter catalog', () => {
    expect(loadConfig({}).catalogDir).toBeUndefined();
    expect(loadConfig({ AIOPS_CATALOG_DIR: '/etc/aiops/catalog' }).catalogDir).toBe('/etc/aiops/catalog');
  });

  it('reads scheduled backups (AIOPS_BACKUP_*), for the embedded database only', () => {
    expect(loadConfig({}).backup).toBeUndefined();
    expect(loadConfig({ AIOPS_BACKUP_DIR: '/b' }).backup).toEqual({ dir: '/b', everyHours: 24, keep: 7 });
    expect(
      loadConfig({ AIOPS_BACKUP_DIR: '/b', AIOPS_BACKUP_EVERY_HOURS: '6', AIOPS_BACKUP_KEEP: '30' }).backup,
    ).toEqual({ dir: '/b', everyHours: 6, keep: 30 });
    expect(() => loadConfig({ AIOPS_BACKUP_EVERY_HOURS: '0' })).toThrow(/AIOPS_BACKUP_EVERY_HOURS/);
    expect(() => loadConfig({ AIOPS_BACKUP_EVERY_HOURS: '721' })).toThrow(/AIOPS_BACKUP_EVERY_HOURS/);
    expect(() => loadConfig({ AIOPS_BACKUP_KEEP: '1001' })).toThrow(/AIOPS_BACKUP_KEEP/);
    expect(() => loadConfig({ AIOPS_BACKUP_DIR: '/b', DATABASE_URL: 'postgres://u@h/db' })).toThrow(
      /AIOPS_BACKUP_DIR.*pg_dump/,
    );
  });

  it('never echoes a database password in an error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:hunter2@db:5432/x', PORT: '-1' })).toThrow(/PORT/);
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://u:hunter2@db:5432/x', AIOPS_DB_POOL_SIZE: 'x' }),
    ).not.toThrow(/hunter2/);
  });
});

describe('identity configuration', () => {
  it('has working defaults: public URL from host and port, 15-minute access tokens, no SMTP, no Redis', () => {
    const c = loadConfig({ PORT: '4100' });
    expect(c.publicUrl).toBe('http://127.0.0.1:4100');
    expect(c.auth).toEqual({
      jwtSecret: undefined,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 2_592_000,
    });
    expect(c.mail.smtpUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(c.oauth).toEqual({});
  });

  it('enables an OAuth provider when its id and secret are set; a half-set pair is refused', () => {
    const c = loadConfig({
      AIOPS_GOOGLE_CLIENT_ID: 'g',
      AIOPS_GOOGLE_CLIENT_SECRET: 's',
      AIOPS_MICROSOFT_CLIENT_ID: 'm',
      AIOPS_MICROSOFT_CLIENT_SECRET: 's',
      AIOPS_MICROSOFT_TENANT: 'contoso.onmicrosoft.com',
      AIOPS_PUBLIC_URL: 'https://studio.example.com/',
    });
    expect(c.oauth.google).toEqual({
      clientId: 'g',
      clientSecret: 's',
      issuer: 'https://accounts.google.com',
    });
    expect(c.oauth.microsoft?.issuer).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0');
    expect(c.publicUrl).toBe('https://studio.example.com');
    expect(() => loadConfig({ AIOPS_GITHUB_CLIENT_ID: 'x' })).toThrow(/AIOPS_GITHUB_CLIENT_SECRET/);
  });

  it.each([
    [{ AIOPS_JWT_SECRET: 'short' }, /AIOPS_JWT_SECRET = "\*\*\*": must be at least 32/],
    [{ SMTP_URL: 'mail.example.com' }, /SMTP_URL/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ AIOPS_ACCESS_TOKEN_TTL_SECONDS: '5' }, /AIOPS_ACCESS_TOKEN_TTL_SECONDS/],
    [{ AIOPS_PUBLIC_URL: 'studio.example.com' }, /AIOPS_PUBLIC_URL/],
  ])('%o is refused with the variable named', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
