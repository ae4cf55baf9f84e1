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
  ])('%o fails with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (e) {
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('never echoes a database password in an error', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u:hunter2@db:5432/x', PORT: '-1' })).toThrow(/PORT/);
    expect(() =>
      loadConfig({ DATABASE_URL: 'postgres://u:hunter2@db:5432/x', AIOPS_DB_POOL_SIZE: 'x' }),
    ).not.toThrow(/hunter2/);
  });
});
