/**
 * Which IP addresses outbound tool traffic may reach. By default only public unicast addresses: loopback,
 * private (RFC 1918), carrier-grade NAT (RFC 6598), link-local (which holds the cloud metadata endpoint
 * 169.254.169.254), IPv6 unique-local and link-local, cloud metadata addresses, unspecified, multicast and
 * reserved ranges are refused unless the organization allows private networks.
 * IPv4-mapped and IPv4-embedding IPv6 forms (`::ffff:127.0.0.1`, NAT64, 6to4) are judged by their IPv4.
 */
import { BlockList, isIP } from 'node:net';

export type AddressCategory =
  | 'public'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'unique-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

const V4: [string, number, AddressCategory][] = [
  ['169.254.169.254', 32, 'metadata'], // AWS, GCP, Azure, OpenStack
  ['100.100.100.200', 32, 'metadata'], // Alibaba Cloud
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'cgnat'],
  ['169.254.0.0', 16, 'link-local'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: [string, number, AddressCategory][] = [
  ['fd00:ec2::254', 128, 'metadata'], // AWS over IPv6
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'reserved'],
];

// One BlockList per category, checked in table order (the most specific first).
const lists: { category: AddressCategory; list: BlockList }[] = [];
function listFor(category: AddressCategory): BlockList {
  let entry = lists.find((l) => l.category === category);
  if (!entry) {
    entry = { category, list: new BlockList() };
    lists.push(entry);
  }
  return entry.list;
}
for (const [net, prefix, category] of V4) listFor(category).addSubnet(net, prefix, 'ipv4');
for (const [net, prefix, category] of V6) listFor(category).addSubnet(net, prefix, 'ipv6');

/** Expands an IPv6 address to its 8 groups (as numbers), or undefined. */
function groups(v6: string): number[] | undefined {
  let s = v6;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const maybeV4 = s.slice(lastColon + 1);
  if (isIP(maybeV4) === 4) {
    const o = maybeV4.split('.').map(Number);
    tail = [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!];
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const a = head ? head.split(':') : [];
  const b = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - a.length - b.length;
  const all = [...a, ...Array(fill).fill('0'), ...b].map((g) => Number.parseInt(g, 16));
  if (all.length !== 8 || all.some((n) => Number.isNaN(n))) return undefined;
  if (tail.length) all.splice(6, 2, ...tail);
  return all;
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64 64:ff9b::/96, 6to4 2002::/16). */
export function embeddedIPv4(v6: string): string | undefined {
  const g = groups(v6.toLowerCase());
  if (!g) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(5) && g[5] === 0xffff) return v4(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (zeros(6) && (g[6] !== 0 || g[7]! > 1)) return v4(g[6]!, g[7]!); // ::a.b.c.d (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

export function categorize(address: string): AddressCategory {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const version = isIP(bare);
  if (version === 0) throw new Error(`"${address}" is not an IP address`);
  if (version === 6) {
    const v4 = embeddedIPv4(bare);
    if (v4) return categorize(v4);
  }
  const type = version === 4 ? 'ipv4' : 'ipv6';
  for (const { category, list } of lists) if (list.check(bare, type)) return category;
  return 'public';
}

export interface NetworkPolicy {
  /** The organization's setting: let tools reach private, loopback, link-local and metadata addresses. */
  allowPrivateNetworks?: boolean;
  /** Finer: only these kinds of non-public address (e.g. `['private']` for an office network). */
  allowCategories?: readonly AddressCategory[];
}

/** Undefined when the address may be reached; otherwise why not. */
export function refusal(address: string, policy: NetworkPolicy): AddressCategory | undefined {
  const category = categorize(address);
  if (category === 'public') return undefined;
  if (category === 'unspecified' || category === 'multicast') return category;
  if (policy.allowPrivateNetworks || policy.allowCategories?.includes(category)) return undefined;
  return category;
}
