/**
 * The subscription plans as data (issue 20): price, allowances, overage prices, rate limits, seats and
 * container resources per tier. Seed 002's `basic` and `pro` are accepted as aliases of `starter` and
 * `professional`. Money is a decimal string in USD (computed with decimal.js where it is used).
 *
 * Resources are seed 002's `container_resources` table exactly: basic 1 CPU / 2,048 MB shared, pro 4 /
 * 8,192 shared, enterprise 16 / 32,768 isolated. Seed 002 has no business tier: business gets pro's row.
 */
export const PLAN_TIERS = ['starter', 'professional', 'business', 'enterprise'] as const;
export type PlanTier = (typeof PLAN_TIERS)[number];

export const PLAN_ALIASES: Record<string, PlanTier> = { basic: 'starter', pro: 'professional' };

export interface ResourceLimits {
  /** seed 002 `subscription_tier` of the row these limits come from. */
  seedTier: 'basic' | 'pro' | 'enterprise';
  cpuLimit: number;
  memoryLimitMb: number;
  networkIsolation: 'shared' | 'isolated';
  /** What one code step (or code agent call) may use: a share of the container above (issue 21). */
  code: CodeLimits;
}

/**
 * Limits of one code step in the sandbox. A step gets 1/32 of its tier's container memory, one second of
 * CPU time per container CPU and ten times that of wall-clock time; network (through the platform's guarded
 * fetch, to the hosts the node allows) from the pro row up.
 */
export interface CodeLimits {
  memoryMb: number;
  cpuMs: number;
  wallMs: number;
  network: boolean;
}

function codeLimits(cpuLimit: number, memoryLimitMb: number, network: boolean): CodeLimits {
  return { memoryMb: memoryLimitMb / 32, cpuMs: cpuLimit * 1000, wallMs: cpuLimit * 10_000, network };
}

export interface Plan {
  tier: PlanTier;
  name: string;
  /** USD per month, billed in advance for the period (prorated by day on a change, see README). */
  monthlyPrice: string;
  /** Workflow runs included each month. */
  includedExecutions: number;
  /** Runs allowed each month in all (included + overage): the engine's monthly quota. */
  executionCap: number;
  /** USD per run above the included ones ("0" on starter: it stops at its cap instead). */
  executionOveragePrice: string;
  /** Model tokens included each month (input + output, cached responses not counted). */
  includedTokens: number;
  /** USD per 1,000 tokens above the allowance. */
  tokenOveragePricePer1k: string;
  /** API requests per minute: per user (or key) and for the whole organization. */
  rateLimits: { userPerMinute: number; orgPerMinute: number };
  /** Members allowed (null: unlimited). */
  seats: number | null;
  resources: ResourceLimits;
}

const SEED_002_RESOURCES: Record<ResourceLimits['seedTier'], ResourceLimits> = {
  basic: {
    seedTier: 'basic',
    cpuLimit: 1,
    memoryLimitMb: 2048,
    networkIsolation: 'shared',
    code: codeLimits(1, 2048, false),
  },
  pro: {
    seedTier: 'pro',
    cpuLimit: 4,
    memoryLimitMb: 8192,
    networkIsolation: 'shared',
    code: codeLimits(4, 8192, true),
  },
  enterprise: {
    seedTier: 'enterprise',
    cpuLimit: 16,
    memoryLimitMb: 32768,
    networkIsolation: 'isolated',
    code: codeLimits(16, 32768, true),
  },
};

export const PLANS: Readonly<Record<PlanTier, Plan>> = {
  starter: {
    tier: 'starter',
    name: 'Starter',
    monthlyPrice: '0.00',
    includedExecutions: 500,
    executionCap: 500,
    executionOveragePrice: '0',
    includedTokens: 1_000_000,
    tokenOveragePricePer1k: '0.004',
    rateLimits: { userPerMinute: 300, orgPerMinute: 1_000 },
    seats: 3,
    resources: SEED_002_RESOURCES.basic,
  },
  professional: {
    tier: 'professional',
    name: 'Professional',
    monthlyPrice: '49.00',
    includedExecutions: 10_000,
    executionCap: 50_000,
    executionOveragePrice: '0.005',
    includedTokens: 20_000_000,
    tokenOveragePricePer1k: '0.003',
    rateLimits: { userPerMinute: 1_000, orgPerMinute: 5_000 },
    seats: 10,
    resources: SEED_002_RESOURCES.pro,
  },
  business: {
    tier: 'business',
    name: 'Business',
    monthlyPrice: '199.00',
    includedExecutions: 100_000,
    executionCap: 500_000,
    executionOveragePrice: '0.003',
    includedTokens: 200_000_000,
    tokenOveragePricePer1k: '0.002',
    rateLimits: { userPerMinute: 3_000, orgPerMinute: 20_000 },
    seats: 50,
    resources: SEED_002_RESOURCES.pro,
  },
  enterprise: {
    tier: 'enterprise',
    name: 'Enterprise',
    monthlyPrice: '999.00',
    includedExecutions: 2_000_000_000,
    executionCap: 2_000_000_000,
    executionOveragePrice: '0',
    includedTokens: 2_000_000_000,
    tokenOveragePricePer1k: '0.001',
    rateLimits: { userPerMinute: 10_000, orgPerMinute: 100_000 },
    seats: null,
    resources: SEED_002_RESOURCES.enterprise,
  },
};

/** The plan of a tier name, aliases included; undefined for an unknown name. */
export function planFor(tier: string): Plan | undefined {
  const canonical = (PLAN_TIERS as readonly string[]).includes(tier)
    ? (tier as PlanTier)
    : PLAN_ALIASES[tier];
  return canonical ? PLANS[canonical] : undefined;
}
