/**
 * MCP server at `/mcp` (streamable HTTP, the official MCP SDK, stateless: each POST is one exchange): the
 * organization's active workflows are its tools (input schema = the workflow's input schema; a call starts
 * a run and answers its output, or the run id when it is still running after `MCP_WAIT_SECONDS`), and its
 * runs are resources (`aiops://runs/<id>`). Authenticated by API key (or token) like the API: listing needs
 * `workflow:read`, calling `workflow:execute`, reading runs `run:read`.
 */
import { forbidden } from '@aiops/core';
import { workflowExecutions, workflows } from '@aiops/db';
import * as engine from '@aiops/engine';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type AuthContext, authOf } from '../../http/auth.ts';
import type { ModuleDeps } from '../../module.ts';
import { VERSION } from '../../version.ts';
import { runDto } from '../runs/dto.ts';

/** How long a tool call waits for its run before answering with the run id. */
export const MCP_WAIT_SECONDS = 20;
const MAX_TOOLS = 500;
const MAX_RESOURCES = 100;

/** Tool names are the workflow's name made safe (MCP: letters, digits, _ and -), unique per listing. */
function toolNames(rows: { id: string; name: string }[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const r of rows) {
    const base =
      r.name
        .replace(/[^A-Za-z0-9_-]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, 56) || 'workflow';
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    names.set(name, r.id);
  }
  return names;
}

const need = (auth: AuthContext, permission: 'workflow:read' | 'workflow:execute' | 'run:read') => {
  if (!auth.permissions.has(permission))
    throw forbidden(`This needs the permission "${permission}", which this credential does not grant`);
};

export const mcpRoutes =
  (deps: ModuleDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const active = (auth: AuthContext) =>
      deps.db.withTenant(auth.organizationId, (tx) =>
        tx
          .select({
            id: workflows.id,
            name: workflows.name,
            description: workflows.description,
            definition: workflows.definition,
          })
          .from(workflows)
          .where(and(eq(workflows.status, 'active'), isNull(workflows.deletedAt)))
          .orderBy(workflows.name)
          .limit(MAX_TOOLS),
      );

    function serverFor(auth: AuthContext): Server {
      const server = new Server(
        { name: 'aiops-studio', version: VERSION },
        { capabilities: { tools: {}, resources: {} } },
      );
      server.setRequestHandler(ListToolsRequestSchema, async () => {
        need(auth, 'workflow:read');
        const rows = await active(auth);
        const names = toolNames(rows);
        const byId = new Map(rows.map((r) => [r.id, r]));
        return {
          tools: [...names].map(([name, id]) => {
            const wf = byId.get(id)!;
            const schema = wf.definition.input as Record<string, unknown> | undefined;
            return {
              name,
              title: wf.name,
              description: `${wf.description ?? `Runs the workflow "${wf.name}"`} (workflow ${wf.id})`,
              inputSchema: (schema && schema.type === 'object' ? schema : { type: 'object' }) as {
                type: 'object';
              },
            };
          }),
        };
      });
      server.setRequestHandler(CallToolRequestSchema, async (req) => {
        need(auth, 'workflow:execute');
        const names = toolNames(await active(auth));
        const workflowId = names.get(req.params.name);
        if (!workflowId)
          return {
            isError: true,
            content: [{ type: 'text' as const, text: `No active workflow is the tool "${req.params.name}"` }],
          };
        const startedAt = Date.now();
        try {
          const started = await deps.engine.runs.start({
            organizationId: auth.organizationId,
            workflowId,
            input: req.params.arguments ?? {},
            triggeredBy: 'api',
            userId: auth.userId,
            apiKeyId: auth.apiKeyId,
            idempotencyKey: null,
            metadata: { source: 'mcp' },
          });
          const run = await deps.engine.watcher.waitForFinal(
            auth.organizationId,
            started.id,
            MCP_WAIT_SECONDS * 1000,
            startedAt,
          );
          const dto = runDto(run);
          const finished = engine.FINAL.includes(run.status);
          const body = finished
            ? {
                runId: run.id,
                status: run.status,
                output: dto.output ?? null,
                ...(dto.error ? { error: dto.error } : {}),
              }
            : { runId: run.id, status: run.status, resource: `aiops://runs/${run.id}` };
          return {
            isError: finished && run.status !== 'completed',
            content: [{ type: 'text' as const, text: JSON.stringify(body) }],
            structuredContent: body,
          };
        } catch (e) {
          return { isError: true, content: [{ type: 'text' as const, text: (e as Error).message }] };
        }
      });
      server.setRequestHandler(ListResourcesRequestSchema, async () => {
        need(auth, 'run:read');
        const rows = await deps.db.withTenant(auth.organizationId, (tx) =>
          tx
            .select({ id: workflowExecutions.id, status: workflowExecutions.status, name: workflows.name })
            .from(workflowExecutions)
            .innerJoin(workflows, eq(workflows.id, workflowExecutions.workflowId))
            .orderBy(desc(workflowExecutions.createdAt))
            .limit(MAX_RESOURCES),
        );
        return {
          resources: rows.map((r) => ({
            uri: `aiops://runs/${r.id}`,
            name: `run ${r.id}`,
            title: `${r.name}: ${r.status}`,
            mimeType: 'application/json',
          })),
        };
      });
      server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
        need(auth, 'run:read');
        const m = /^aiops:\/\/runs\/([0-9a-f-]{36})$/.exec(req.params.uri);
        const run = m
          ? await deps.db.withTenant(auth.organizationId, async (tx) => {
              const [row] = await tx
                .select()
                .from(workflowExecutions)
                .where(eq(workflowExecutions.id, m[1]!));
              return row;
            })
          : undefined;
        if (!run) throw new Error(`No run at ${req.params.uri}: resources are aiops://runs/<run id>`);
        return {
          contents: [
            { uri: req.params.uri, mimeType: 'application/json', text: JSON.stringify(runDto(run)) },
          ],
        };
      });
      return server;
    }

    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const auth = authOf(request);
      const server = serverFor(auth);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    };
    // Calls are runs, recorded as such (audit: false: the run is the record).
    app.post(
      '/mcp',
      { bodyLimit: 4 * 1024 * 1024, config: { permission: 'authenticated', audit: false } },
      handle,
    );
    app.get('/mcp', { config: { permission: 'authenticated' } }, async (_request, reply) =>
      reply
        .status(405)
        .header('allow', 'POST')
        .send({
          jsonrpc: '2.0',
          error: { code: -32000, message: 'This MCP server is stateless: send JSON-RPC requests with POST' },
          id: null,
        }),
    );
  };
