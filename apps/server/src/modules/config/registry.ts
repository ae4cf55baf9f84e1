import { createHash } from 'node:crypto';
import { flagValueSchema } from '@aiops/contracts';
import { z } from 'zod';

export { flagValueSchema };

/**
 * The feature flags and runtime settings the server knows, one entry per key: what it does, its Zod
 * schema (every write is validated by it) and its default. A key not listed here is refused.
 */

export type FlagValue = z.infer<typeof flagValueSchema>;

export interface FlagDefinition {
  key: string;
  description: string;
  /** Owners may turn it off (and back on) for their organization when the platform offers it. */
  ownerToggle: boolean;
  /** Route patterns the flag gates (a prefix of the route's URL pattern). */
  routes: readonly string[];
}

export const FLAGS: readonly FlagDefinition[] = [
  {
    key: 'feature/workflows',
    description: 'Workflows: the editor, versions, imports, triggers and starting workflow runs',
    ownerToggle: false,
    // Reading past runs stays possible; starting, retrying and triggering runs does not (the trigger
    // paths also check the flag when they fire: triggers/firing.ts).
    routes: ['/api/v1/workflows', '/api/v1/triggers', '/api/v1/runs/:id/retry', '/api/v1/runs/:id/rerun'],
  },
  {
    key: 'feature/marketplace',
    description: 'The marketplace: browsing, publishing and installing listings',
    ownerToggle: true,
    routes: ['/api/v1/marketplace'],
  },
  {
    key: 'feature/conversations',
    description: 'Chat: conversations with agents and models',
    ownerToggle: true,
    routes: ['/api/v1/conversations'],
  },
  {
    key: 'feature/gateway',
    description: 'The OpenAI-compatible gateway (/v1/chat/completions, /v1/embeddings, /v1/models)',
    ownerToggle: true,
    routes: ['/v1/'],
  },
];

export const DEFAULT_FLAG: FlagValue = { enabled: true, rolloutPercent: 100, allowOrganizations: [] };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const perMinute = z.number().int().min(1).max(10_000_000);
const tierLimits = z.object({ userPerMinute: perMinute, orgPerMinute: perMinute }).strict();

export interface SettingDefinition {
  key: string;
  description: string;
  schema: z.ZodType;
  /** May also be set per organization (by an operator). */
  perOrganization: boolean;
}

export const SETTINGS: readonly SettingDefinition[] = [
  {
    key: 'log_level',
    description: "The log level of every process (default: the process's LOG_LEVEL)",
    schema: z.enum(LOG_LEVELS),
    perOrganization: false,
  },
  {
    key: 'rate_limits.anonymous_per_minute',
    description: 'Requests per minute per client address to public routes without credentials',
    schema: perMinute,
    perOrganization: false,
  },
  {
    key: 'rate_limits.tiers',
    description: 'Requests per minute of a user and of a whole organization, by plan tier',
    schema: z
      .object({
        starter: tierLimits.optional(),
        professional: tierLimits.optional(),
        business: tierLimits.optional(),
        enterprise: tierLimits.optional(),
      })
      .strict(),
    perOrganization: false,
  },
  {
    key: 'rate_limits.org_per_minute',
    description: "Requests per minute of the whole organization (replaces its tier's orgPerMinute)",
    schema: perMinute,
    perOrganization: true,
  },
];

export const flagDefinition = (key: string) => FLAGS.find((f) => f.key === key);
export const settingDefinition = (key: string) => SETTINGS.find((s) => s.key === key);

/** A stable number in [0, 100) for an organization and a flag: the same organization stays in or out. */
export function rolloutBucket(flagKey: string, organizationId: string): number {
  const digest = createHash('sha256').update(`${flagKey}:${organizationId.toLowerCase()}`).digest();
  return (digest.readUInt32BE(0) % 10_000) / 100;
}

export type FlagSource = 'default' | 'global' | 'rollout' | 'allow-list' | 'operator' | 'owner';

export interface FlagState {
  enabled: boolean;
  source: FlagSource;
  /** Whether the platform (global value, rollout, allow-list or operator override) offers it. */
  offered: boolean;
}

/**
 * How a flag applies to one organization: an operator's override wins; else the allow-list; else the
 * global switch and the rollout share; an owner may then turn off (opt out of) what is offered.
 */
export function evaluateFlag(
  def: FlagDefinition,
  organizationId: string,
  global: FlagValue | undefined,
  operatorOverride: boolean | undefined,
  ownerOverride: boolean | undefined,
): FlagState {
  let offered: boolean;
  let source: FlagSource;
  if (operatorOverride !== undefined) {
    offered = operatorOverride;
    source = 'operator';
  } else if (!global) {
    offered = DEFAULT_FLAG.enabled;
    source = 'default';
  } else if (global.allowOrganizations.includes(organizationId)) {
    offered = true;
    source = 'allow-list';
  } else if (!global.enabled) {
    offered = false;
    source = 'global';
  } else if (global.rolloutPercent >= 100) {
    offered = true;
    source = 'global';
  } else {
    offered = rolloutBucket(def.key, organizationId) < global.rolloutPercent;
    source = 'rollout';
  }
  if (offered && def.ownerToggle && ownerOverride === false)
    return { enabled: false, source: 'owner', offered };
  return { enabled: offered, source, offered };
}
