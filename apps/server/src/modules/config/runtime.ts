import { type Database, organizationConfig, platformConfig } from '@aiops/db';
import {
  DEFAULT_FLAG,
  evaluateFlag,
  FLAGS,
  type FlagDefinition,
  type FlagState,
  type FlagValue,
  flagDefinition,
  flagValueSchema,
  SETTINGS,
} from './registry.ts';

/** Reload at least this often, in case a NOTIFY was lost while the listening connection was down. */
const FALLBACK_RELOAD_MS = 30_000;

interface Snapshot {
  global: Map<string, unknown>;
  /** organization id → `${layer}:${key}` → value */
  orgs: Map<string, Map<string, unknown>>;
}

const EMPTY: Snapshot = { global: new Map(), orgs: new Map() };

const byDatabase = new WeakMap<Database, RuntimeConfig>();

/**
 * The runtime configuration started on a database handle, for code that runs outside a request (the
 * trigger loop, event fan-out); undefined before the app has started it.
 */
export const runtimeConfigOf = (db: Database): RuntimeConfig | undefined => byDatabase.get(db);

/**
 * This process's copy of the feature flags and runtime settings. Both tables are small; the whole of them
 * is read at start and again whenever a change NOTIFYs `aiops_config` (triggers of the `flags` migration),
 * so every process (API and worker roles) applies a change within a notification's delay, without a
 * restart. The process that makes a change reloads before it answers.
 */
export class RuntimeConfig {
  private snapshot: Snapshot = EMPTY;
  private unlisten: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private readonly listeners = new Set<(config: RuntimeConfig) => void>();

  constructor(
    private readonly db: Database,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  async start(): Promise<void> {
    this.unlisten = await this.db.listen('aiops_config', () => {
      void this.reload().catch(() => {});
    });
    await this.reload();
    byDatabase.set(this.db, this);
    this.timer = setInterval(() => void this.reload().catch(() => {}), FALLBACK_RELOAD_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (byDatabase.get(this.db) === this) byDatabase.delete(this.db);
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  /** Called after every load (and once at once): apply settings to the process. */
  onChange(fn: (config: RuntimeConfig) => void): void {
    this.listeners.add(fn);
    fn(this);
  }

  /** Reads both tables again; a reload asked for during one runs once more after it (no lost change). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          this.snapshot = await this.read();
          for (const fn of this.listeners) {
            try {
              fn(this);
            } catch (err) {
              this.log?.warn({ err }, 'applying the runtime configuration failed');
            }
          }
        } while (this.again);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async read(): Promise<Snapshot> {
    const [globals, overrides] = await this.db.system(async (tx) => [
      await tx.select().from(platformConfig),
      await tx.select().from(organizationConfig),
    ]);
    const global = new Map(globals.map((r) => [r.key, r.value]));
    const orgs = new Map<string, Map<string, unknown>>();
    for (const r of overrides) {
      let m = orgs.get(r.organizationId);
      if (!m) {
        m = new Map();
        orgs.set(r.organizationId, m);
      }
      m.set(`${r.layer}:${r.key}`, r.value);
    }
    return { global, orgs };
  }

  /** The global value of a flag (the default when unset or unreadable). */
  globalFlag(key: string): FlagValue {
    const parsed = flagValueSchema.safeParse(this.snapshot.global.get(key));
    return parsed.success ? parsed.data : DEFAULT_FLAG;
  }

  hasGlobal(key: string): boolean {
    return this.snapshot.global.has(key);
  }

  override(organizationId: string, layer: 'operator' | 'owner', key: string): unknown {
    return this.snapshot.orgs.get(organizationId)?.get(`${layer}:${key}`);
  }

  /** Every per-organization override: for the operators' page. */
  overrides(): { organizationId: string; layer: 'operator' | 'owner'; key: string; value: unknown }[] {
    const out: { organizationId: string; layer: 'operator' | 'owner'; key: string; value: unknown }[] = [];
    for (const [organizationId, m] of this.snapshot.orgs) {
      for (const [k, value] of m) {
        const i = k.indexOf(':');
        out.push({
          organizationId,
          layer: k.slice(0, i) as 'operator' | 'owner',
          key: k.slice(i + 1),
          value,
        });
      }
    }
    return out;
  }

  flag(key: string, organizationId: string): FlagState {
    const def = flagDefinition(key);
    if (!def) return { enabled: false, source: 'default', offered: false };
    return this.evaluate(def, organizationId);
  }

  evaluate(def: FlagDefinition, organizationId: string): FlagState {
    const op = this.override(organizationId, 'operator', def.key);
    const own = this.override(organizationId, 'owner', def.key);
    return evaluateFlag(
      def,
      organizationId,
      this.hasGlobal(def.key) ? this.globalFlag(def.key) : undefined,
      typeof op === 'boolean' ? op : undefined,
      typeof own === 'boolean' ? own : undefined,
    );
  }

  flags(organizationId: string): (FlagDefinition & FlagState)[] {
    return FLAGS.map((def) => ({ ...def, ...this.evaluate(def, organizationId) }));
  }

  /** A runtime setting: the organization's override (where allowed), else the global value, else undefined. */
  setting<T>(key: string, organizationId?: string): T | undefined {
    const def = SETTINGS.find((s) => s.key === key);
    if (!def) return undefined;
    const candidates = [
      def.perOrganization && organizationId ? this.override(organizationId, 'operator', key) : undefined,
      this.snapshot.global.get(key),
    ];
    for (const c of candidates) {
      if (c === undefined) continue;
      const parsed = def.schema.safeParse(c);
      if (parsed.success) return parsed.data as T;
    }
    return undefined;
  }

  /** Whether this organization has any per-organization setting (cheap check on the hot path). */
  hasOrganization(organizationId: string): boolean {
    return this.snapshot.orgs.has(organizationId);
  }
}
