import { codeTestBodySchema, codeTestResponseSchema } from '@aiops/contracts';
import { PLANS, planFor } from '@aiops/core';
import { queryRows } from '@aiops/db';
import { CodeSandbox, runCodeSource } from '@aiops/engine';
import { outboundPolicy } from '@aiops/providers';
import { sql } from 'drizzle-orm';
import { authOf } from '../../http/auth.ts';
import { tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';

const tags = ['code'];

/**
 * Code steps (issue 21): run a code node's code once with sample input — the studio's "Test with sample
 * input" — in the same sandbox and with the same tier limits as a workflow step. The module keeps its own
 * small pool of sandbox threads, started at the first test.
 */
export const codeModule: AppModule = (deps) => async (app) => {
  let sandbox: CodeSandbox | undefined;
  app.addHook('onClose', async () => {
    await sandbox?.close();
  });
  app.post(
    '/code/test',
    {
      config: { permission: 'workflow:execute', audit: false },
      schema: {
        tags,
        summary: 'Run code once with sample input, with the organization’s tier limits (nothing is saved)',
        body: codeTestBodySchema,
        response: { 200: codeTestResponseSchema },
      },
    },
    async (request) => {
      const auth = authOf(request);
      const [org] = await tenant(request, (tx) =>
        queryRows<{ tier: string; allow: boolean | null }>(
          tx,
          sql`SELECT subscription_tier AS tier, (settings->>'allowPrivateNetworks')::boolean AS allow
              FROM organizations WHERE id = ${auth.organizationId}`,
        ),
      );
      const limits = (planFor(org?.tier ?? '') ?? PLANS.starter).resources.code;
      sandbox ??= new CodeSandbox(2);
      const body = request.body;
      const result = await runCodeSource(
        { language: body.language, code: body.code, network: body.network },
        {
          sandbox,
          limits,
          policy: async () =>
            outboundPolicy({
              allowPrivateNetworks: org?.allow === true,
              privateCategories: deps.settings.privateNetworkCategories,
            }),
          input: body.input ?? {},
          nodes: body.nodes ?? {},
          variables: body.variables ?? {},
        },
      );
      return { ...result, limits };
    },
  );
};
