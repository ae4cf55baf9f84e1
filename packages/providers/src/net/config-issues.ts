/**
 * Save-time checks of user-supplied tool configs against the outbound policy (run time checks again,
 * whatever was saved):
 * - a config may not carry policy fields (`allowCategories`, `allowPrivateNetworks`, …): the policy is the
 *   server's, so such a field is refused rather than silently ignored;
 * - a literal URL (an `http_request` URL without placeholders, an MCP HTTP server's URL) whose host is, or
 *   resolves to, an address the organization's policy refuses is refused.
 * Works on an agent's `toolConfigs` and on a workflow definition's tool nodes and inline agents.
 */
import type { OutboundPolicy } from './address.ts';
import { urlRefusal } from './resolve.ts';

export interface ConfigIssue {
  nodeId?: string;
  path: string;
  message: string;
}

/** Fields that would set a policy; no user config may carry them. */
const POLICY_FIELDS = new Set([
  'allowCategories',
  'allowedCategories',
  'allowPrivateNetworks',
  'privateNetworks',
  'networkPolicy',
  'network',
  'policy',
  'lookup',
]);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Found {
  issues: ConfigIssue[];
  urls: { nodeId?: string; path: string; url: string }[];
}

function policyFields(config: Record<string, unknown>, path: string, found: Found, nodeId?: string) {
  for (const k of Object.keys(config))
    if (POLICY_FIELDS.has(k))
      found.issues.push({
        ...(nodeId ? { nodeId } : {}),
        path: `${path}.${k}`,
        message: `"${k}" is not a tool setting: which addresses tools reach is the organization's settings.allowPrivateNetworks (and the operator's configuration)`,
      });
}

function httpRequest(config: Record<string, unknown>, path: string, found: Found, nodeId?: string) {
  policyFields(config, path, found, nodeId);
  if (typeof config.url === 'string' && !config.url.includes('{{'))
    found.urls.push({ ...(nodeId ? { nodeId } : {}), path: `${path}.url`, url: config.url });
}

function toolConfigs(configs: unknown, path: string, found: Found, nodeId?: string) {
  if (!isObject(configs)) return;
  for (const [name, config] of Object.entries(configs)) {
    if (!isObject(config)) continue;
    const where = `${path}.${name}`;
    if (name === 'http_request') httpRequest(config, where, found, nodeId);
    else policyFields(config, where, found, nodeId);
    if (name === 'mcp' && Array.isArray(config.servers))
      config.servers.forEach((server, i) => {
        if (!isObject(server)) return;
        policyFields(server, `${where}.servers[${i}]`, found, nodeId);
        if (server.transport === 'http' && typeof server.url === 'string')
          found.urls.push({
            ...(nodeId ? { nodeId } : {}),
            path: `${where}.servers[${i}].url`,
            url: server.url,
          });
      });
  }
}

async function judge(found: Found, policy: OutboundPolicy): Promise<ConfigIssue[]> {
  const refusals = await Promise.all(found.urls.map((u) => urlRefusal(u.url, policy)));
  const issues = [...found.issues];
  found.urls.forEach((u, i) => {
    const why = refusals[i];
    if (why) issues.push({ ...(u.nodeId ? { nodeId: u.nodeId } : {}), path: u.path, message: why });
  });
  return issues;
}

/**
 * Issues of an agent's `toolConfigs` (`{ toolConfigs }`) or of a workflow definition (`{ definition }`);
 * paths are relative to the request body.
 */
export async function outboundConfigIssues(
  target: { toolConfigs: unknown } | { definition: unknown },
  policy: OutboundPolicy,
): Promise<ConfigIssue[]> {
  const found: Found = { issues: [], urls: [] };
  if ('toolConfigs' in target) toolConfigs(target.toolConfigs, 'toolConfigs', found);
  else if (isObject(target.definition) && Array.isArray(target.definition.nodes)) {
    target.definition.nodes.forEach((node: unknown, index) => {
      if (!isObject(node)) return;
      const nodeId = typeof node.id === 'string' ? node.id : undefined;
      const where = nodeId ? `nodes.${nodeId}` : `nodes[${index}]`;
      if (node.type === 'tool' && isObject(node.config)) {
        if (node.tool === 'http_request') httpRequest(node.config, `${where}.config`, found, nodeId);
        else policyFields(node.config, `${where}.config`, found, nodeId);
      }
      if (node.type === 'agent' && isObject(node.agent))
        toolConfigs(node.agent.toolConfigs, `${where}.agent.toolConfigs`, found, nodeId);
    });
  }
  return judge(found, policy);
}
