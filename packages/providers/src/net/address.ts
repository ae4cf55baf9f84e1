/**
 * The outbound-address policy: which IP addresses the server's outbound HTTP (the `http_request` tool, MCP
 * over HTTP, model providers' base URLs) may reach. Public unicast addresses always; every other kind only
 * when the policy allows its category. The policy is the server's: it is built from the organization's
 * setting and the operator's configuration (`outboundPolicy`), never from a tool's, agent's or workflow's
 * own config.
 *
 * Ranges come from ipaddr.js; IPv4-mapped and IPv4-embedding IPv6 forms (`::ffff:127.0.0.1`, `::ffff:0:…`,
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4) are judged by the IPv4 address they carry.
 */
import ipaddr from 'ipaddr.js';

export const ADDRESS_CATEGORIES = [
  'public',
  'loopback',
  'private',
  'cgnat',
  'link-local',
  'unique-local',
  'metadata',
  'unspecified',
  'multicast',
  'reserved',
] as const;
export type AddressCategory = (typeof ADDRESS_CATEGORIES)[number];

/** Never reachable, whatever the policy says. */
const NEVER: ReadonlySet<AddressCategory> = new Set(['unspecified', 'multicast']);

/**
 * What an organization's "allow private networks" unlocks unless the operator says otherwise
 * (`AIOPS_PRIVATE_NETWORK_CATEGORIES`). Cloud metadata endpoints are not in it: the operator must name them.
 */
export const DEFAULT_PRIVATE_CATEGORIES: readonly AddressCategory[] = [
  'loopback',
  'private',
  'cgnat',
  'link-local',
  'unique-local',
  'reserved',
];

/** Cloud metadata endpoints: AWS/GCP/Azure/OpenStack, Alibaba Cloud, AWS over IPv6. */
const METADATA = new Set(['169.254.169.254', '100.100.100.200', 'fd00:ec2::254']);

const V4: Record<string, AddressCategory> = {
  unspecified: 'unspecified',
  broadcast: 'multicast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
  unicast: 'public',
};
const V6: Record<string, AddressCategory> = {
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  unicast: 'public',
};

/** The IPv4 address an IPv6 address carries (mapped, RFC 6145, compatible `::a.b.c.d`, NAT64, 6to4). */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = v6.range();
  const bytes = v6.toByteArray();
  const last = () => new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return last();
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  // deprecated IPv4-compatible form ::a.b.c.d (:: and ::1 excluded)
  if (bytes.slice(0, 12).every((b) => b === 0) && v6.parts[6] !== 0) return last();
  return undefined;
}

/** The category of an IP address (throws when `address` is not one). */
export function categorize(address: string): AddressCategory {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (!ipaddr.isValid(bare)) throw new Error(`"${address}" is not an IP address`);
  const parsed = ipaddr.parse(bare);
  if (parsed.kind() === 'ipv6') {
    const v4 = embeddedIPv4(parsed as ipaddr.IPv6);
    if (v4) return categorize(v4.toString());
  }
  if (METADATA.has(parsed.toNormalizedString()) || METADATA.has(parsed.toString())) return 'metadata';
  const table = parsed.kind() === 'ipv4' ? V4 : V6;
  return table[parsed.range()] ?? 'reserved';
}

/** Host names that mean an address whatever DNS says (RFC 6761 `localhost`, cloud metadata names). */
export function categoryOfName(hostname: string): AddressCategory | undefined {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (name === 'metadata.google.internal' || name === 'metadata.goog' || name === 'metadata')
    return 'metadata';
  return undefined;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Resolves a host name to all its addresses (injectable: tests, or a resolver of one's own). */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

/** What the server lets outbound traffic reach; built by `outboundPolicy`, never from user config. */
export interface OutboundPolicy {
  /** The non-public categories allowed (unspecified and multicast never are). */
  readonly allow: ReadonlySet<AddressCategory>;
  /** Name resolution (default: the system's, /etc/hosts included); tests inject their own. */
  readonly lookup?: HostLookup;
}

export interface OutboundPolicyInput {
  /** The organization's `settings.allowPrivateNetworks`. */
  allowPrivateNetworks: boolean;
  /** What allowing private networks unlocks: the operator's choice (default `DEFAULT_PRIVATE_CATEGORIES`). */
  privateCategories?: readonly AddressCategory[] | undefined;
  lookup?: HostLookup | undefined;
}

/** The policy for an organization: public addresses, plus the operator's private categories if it allows them. */
export function outboundPolicy(input: OutboundPolicyInput): OutboundPolicy {
  const allow = new Set<AddressCategory>(
    input.allowPrivateNetworks ? (input.privateCategories ?? DEFAULT_PRIVATE_CATEGORIES) : [],
  );
  for (const c of NEVER) allow.delete(c);
  allow.delete('public');
  return input.lookup ? { allow, lookup: input.lookup } : { allow };
}

/** Public addresses only. */
export const PUBLIC_ONLY: OutboundPolicy = outboundPolicy({ allowPrivateNetworks: false });

/** Undefined when the category may be reached under the policy; otherwise the category (why not). */
export function refusedCategory(
  category: AddressCategory,
  policy: OutboundPolicy,
): AddressCategory | undefined {
  if (category === 'public') return undefined;
  if (NEVER.has(category)) return category;
  return policy.allow.has(category) ? undefined : category;
}

/** Undefined when the address may be reached; otherwise why not. */
export function refusal(address: string, policy: OutboundPolicy): AddressCategory | undefined {
  return refusedCategory(categorize(address), policy);
}
