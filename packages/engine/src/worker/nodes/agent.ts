import { type AgentNode, type MemoryConfig, memoryConfigSchema } from '@aiops/contracts';
import { AppError, isAppError, type ModelResult, renderString, renderValue } from '@aiops/core';
import type { AgentConfiguration } from '@aiops/db';
import { type MemoryScope, memoryNamespace } from '../../memory.ts';
import type { ClaimedStep } from '../../sql/claim-steps.ts';
import { runCodeStep } from './code.ts';
import { runExternalAgent } from './external.ts';
import { agentTools } from './tools.ts';
import type { NodeResult, StepContext } from './types.ts';

const asText = (v: unknown) =>
  v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);

/** The agent's cost limit per call: its own, and never above its template's. */
export function templateCostLimit(c: AgentConfiguration): number | undefined {
  const limits = [c.costLimitPerRequest, c.template?.costLimitPerRequest]
    .filter((v) => v !== undefined && v !== null)
    .map(Number);
  return limits.length ? Math.min(...limits) : undefined;
}

/** An agent made from a template calls only the providers the template allows. */
export function checkTemplateLimits(c: AgentConfiguration): void {
  const allowed = c.template?.allowedIntegrations ?? [];
  const model = c.modelSettings.model;
  const provider = model.slice(0, model.indexOf(':'));
  if (allowed.length && !allowed.includes(provider)) {
    throw new AppError(
      403,
      'integration_not_allowed',
      `This agent's template allows only ${allowed.join(', ')}; its model ${model} is ${provider}: change the agent's model`,
      { retryable: false, details: { allowed, provider, templateId: c.template!.id } },
    );
  }
}

/** The model settings of an agent node: inline, or the pinned org agent's. */
function settingsOf(node: AgentNode, ctx: StepContext) {
  const a = node.agent;
  if (a) {
    return {
      model: a.model,
      system: a.system,
      prompt: a.prompt,
      output: a.output,
      temperature: a.temperature,
      topP: a.topP,
      maxTokens: a.maxTokens,
      integrationId: a.integrationId,
      simulate: a.simulate as Record<string, unknown> | undefined,
      tools: a.tools,
      toolConfigs: a.toolConfigs,
      maxSteps: a.maxSteps,
      costLimit: a.costLimitPerRequest,
      memory: a.memory ?? {},
    };
  }
  const c = ctx.agent!;
  checkTemplateLimits(c);
  return {
    model: c.modelSettings.model,
    system: c.systemPrompt,
    prompt: c.promptTemplate,
    output: c.outputSchema,
    temperature: c.modelSettings.temperature,
    topP: c.modelSettings.topP,
    maxTokens: c.modelSettings.maxTokens,
    integrationId: c.integrationId,
    simulate: c.simulate,
    tools: c.tools,
    toolConfigs: c.toolConfigs,
    maxSteps: undefined as number | undefined,
    costLimit: templateCostLimit(c),
    // saved before the memory schema existed: a config that no longer parses means no memory
    memory: memoryConfigSchema.safeParse(c.memoryConfig).data ?? ({} as MemoryConfig),
  };
}

/** The memory scope of a call, or undefined when the agent has no memory configured. */
function memoryScope(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
  config: MemoryConfig,
  integrationId: string | undefined,
): MemoryScope | undefined {
  if (!config.threadKey && !config.semantic && config.type !== 'short_term') return undefined;
  const owner = node.agentId ?? `${step.workflowId}:${node.id}`;
  const threadKey = config.threadKey
    ? asText(renderString(config.threadKey, context)).trim().slice(0, 500) || undefined
    : config.type === 'short_term'
      ? owner
      : undefined;
  return {
    organizationId: step.organizationId,
    config,
    signal: ctx.signal,
    ...(threadKey ? { threadKey } : {}),
    ...(config.semantic ? { namespace: memoryNamespace(config, threadKey, owner) } : {}),
    ...(integrationId ? { integrationId } : {}),
  };
}

/**
 * One model call of the agent with this template context; `key` makes its idempotency key unique, `source`
 * names the exchange in memory (the same for every attempt).
 */
async function callOnce(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
  key: string,
  source: string,
) {
  const s = settingsOf(node, ctx);
  const override = (step.wait?.input ?? undefined) as { system?: string; prompt?: string } | undefined;
  if (node.vars) context.vars = renderValue(node.vars, context);
  // A re-run's edited prompt is a template like the node's own (checked when the re-run was asked for).
  const systemTemplate = override?.system ?? s.system;
  let system = systemTemplate === undefined ? undefined : asText(renderString(systemTemplate, context));
  const prompt = asText(renderString(override?.prompt ?? s.prompt, context));
  const scope = memoryScope(step, node, ctx, context, s.memory, s.integrationId);
  const recall = scope ? await ctx.memory.recall(scope, prompt) : undefined;
  if (recall?.memories.length) {
    const recalled = `Relevant memories:\n${recall.memories.map((m) => `- ${m.replace(/\n/g, ' ')}`).join('\n')}`;
    system = system ? `${system}\n\n${recalled}` : recalled;
  }
  const glossary = s.memory.glossary?.enabled
    ? await ctx.memory.glossary(
        step.organizationId,
        prompt,
        s.memory.glossary.tokenBudget,
        node.agentId ? 'agent' : 'step',
      )
    : undefined;
  if (glossary?.block) system = system ? `${system}\n\n${glossary.block}` : glossary.block;
  // What the model is sent, as the attempt records it (the memory part says what was recalled).
  const call = {
    model: s.model,
    ...(system !== undefined ? { system } : {}),
    prompt,
    ...(s.temperature !== undefined ? { temperature: s.temperature } : {}),
    ...(s.topP !== undefined ? { topP: s.topP } : {}),
    ...(s.maxTokens !== undefined ? { maxTokens: s.maxTokens } : {}),
  };
  const input = scope
    ? {
        ...call,
        memory: {
          ...(scope.threadKey ? { threadKey: scope.threadKey } : {}),
          messages: recall?.messages.length ?? 0,
          recalled: recall?.memories.length ?? 0,
        },
      }
    : call;
  const budget = budgetFor(step, ctx, s.costLimit);
  const { tools, close } = await agentTools(s.tools, s.toolConfigs, ctx, step.organizationId);
  const index = typeof context.index === 'number' && node.forEach !== undefined ? context.index : undefined;
  const stream = ctx.tokens.open({
    runId: step.runId,
    nodeId: step.nodeId,
    attempt: step.attempt,
    ...(index !== undefined ? { index } : {}),
  });
  try {
    const res = await ctx.model.call({
      ...call,
      ...(recall?.messages.length ? { messages: recall.messages } : {}),
      ...(s.output ? { outputSchema: s.output } : {}),
      ...(s.integrationId ? { integrationId: s.integrationId } : {}),
      ...(s.simulate ? { simulate: s.simulate as never } : {}),
      ...(tools.length ? { tools, maxSteps: s.maxSteps ?? 5 } : {}),
      ...(budget !== undefined ? { budgetUsd: budget } : {}),
      ...(s.memory.cacheTtlSeconds ? { cacheTtlMs: s.memory.cacheTtlSeconds * 1000 } : {}),
      attempt: step.attempt,
      idempotencyKey: key,
      organizationId: step.organizationId,
      signal: ctx.signal,
      onToken: (delta) => stream.push(delta),
    });
    if (scope)
      await ctx.memory.remember(
        scope,
        source,
        step.runId,
        { prompt, answer: asText(outputOf(res)) },
        recall!,
      );
    return { input, res };
  } finally {
    stream.close();
    await close();
  }
}

function usageOf(results: ModelResult[]) {
  const sum = (f: (r: ModelResult) => number) => results.reduce((a, r) => a + f(r), 0);
  return {
    inputTokens: sum((r) => r.usage.inputTokens),
    outputTokens: sum((r) => r.usage.outputTokens),
    cachedInputTokens: sum((r) => r.usage.cachedInputTokens),
    reasoningTokens: sum((r) => r.usage.reasoningTokens),
    totalTokens: sum((r) => r.usage.totalTokens),
    estimated: results.some((r) => r.usage.estimated),
  };
}

/**
 * The most this call may spend: the agent's cost limit per request, and what is left of the run's budget
 * and of the organization's monthly budget. Nothing left: the call is not made.
 */
function budgetFor(step: ClaimedStep, ctx: StepContext, costLimit: number | undefined): number | undefined {
  const left = ctx.budget(step);
  const limits = [costLimit, left].filter((v): v is number => v !== undefined);
  if (!limits.length) return undefined;
  const budget = Math.min(...limits);
  if (budget <= 0) {
    throw new AppError(
      402,
      'budget_exceeded',
      `The budget of run ${step.runId} is spent: no further model calls are made`,
      {
        retryable: false,
        details: { budgetUsd: budget },
      },
    );
  }
  return budget;
}

const outputOf = (r: ModelResult) => (r.output !== undefined ? r.output : r.text);

export async function runAgent(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): Promise<NodeResult> {
  const base = `${step.runId}:${step.nodeId}:${step.attempt}`;
  const identity = node.agentId
    ? { agentId: node.agentId, agentVersion: step.agentPins[node.id]?.versionNumber }
    : {};
  if (ctx.agent?.kind === 'code' && node.agentId) return runCodeAgent(step, node, ctx, context, identity);
  if (ctx.agent?.kind === 'external' && node.agentId)
    return runExternalAgent(step, node, ctx, context, identity);
  if (node.forEach === undefined) {
    const { input, res } = await callOnce(step, node, ctx, context, base, `${step.runId}:${step.nodeId}`);
    return {
      kind: 'completed',
      input,
      output: outputOf(res),
      model: res.model,
      usage: res.usage,
      cost: res.costUsd ? res.costUsd.toFixed(6) : '0',
      cached: res.cached,
      ...identity,
    };
  }
  return fanOut(step, node, ctx, context, base, identity);
}

/**
 * Fan-out: the agent runs once per item of the list `forEach` yields, at most `parallelism` at a time; the
 * results come back in the items' order. A failed item fails the node, unless `continueOnError`: then the
 * output is `{results, errors}` with null in place of each failed item's result.
 */
async function fanOut(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
  base: string,
  identity: Record<string, unknown>,
): Promise<NodeResult> {
  const items = renderString(node.forEach!, context);
  if (!Array.isArray(items)) {
    throw new AppError(
      422,
      'for_each_not_a_list',
      `forEach of ${node.id} did not yield a list (got ${items === null ? 'null' : typeof items})`,
      {
        retryable: false,
      },
    );
  }
  const parallelism = node.parallelism ?? 10;
  const results: unknown[] = new Array(items.length).fill(null);
  const errors: { index: number; code: string; message: string }[] = [];
  const calls: ModelResult[] = [];
  let model: string | undefined;
  let next = 0;
  let firstError: unknown;
  const lane = async () => {
    while (next < items.length && firstError === undefined) {
      const index = next++;
      try {
        const { res } = await callOnce(
          step,
          node,
          ctx,
          { ...context, item: items[index], index },
          `${base}:${index}`,
          `${step.runId}:${step.nodeId}:${index}`,
        );
        model = res.model;
        calls.push(res);
        results[index] = outputOf(res);
      } catch (e) {
        if (ctx.signal.aborted) throw e;
        if (!node.continueOnError) {
          firstError = e;
          return;
        }
        errors.push({ index, code: isAppError(e) ? e.code : 'step_error', message: (e as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallelism, Math.max(1, items.length)) }, lane));
  if (firstError !== undefined) throw firstError;
  errors.sort((a, b) => a.index - b.index);
  const cost = calls.reduce((a, r) => a + (r.costUsd ?? 0), 0);
  return {
    kind: 'completed',
    input: { forEach: node.forEach, items: items.length, parallelism },
    output: node.continueOnError ? { results, errors } : results,
    ...(model ? { model } : {}),
    usage: usageOf(calls),
    cost: cost.toFixed(6),
    cached: calls.length > 0 && calls.every((c) => c.cached),
    trace: { items: items.length, failed: errors.length },
    ...identity,
  };
}

/**
 * A saved agent of kind `code` runs its code in the sandbox, like a code step (its console in the step's
 * logs, the tier's limits), never as a model call. It runs once per step: fan-out is refused.
 */
async function runCodeAgent(
  step: ClaimedStep,
  node: AgentNode,
  ctx: StepContext,
  context: Record<string, unknown>,
  identity: Record<string, unknown>,
): Promise<NodeResult> {
  const code = ctx.agent?.code;
  if (!code) {
    throw new AppError(
      422,
      'agent_code_missing',
      `agent ${node.agentId} is a code agent without code: add its code`,
      {
        retryable: false,
      },
    );
  }
  if (node.forEach !== undefined) {
    throw new AppError(
      422,
      'code_agent_for_each',
      'a code agent runs once per step: remove forEach, or use a code step',
      {
        retryable: false,
      },
    );
  }
  const { output } = await runCodeStep(step, code, ctx, context);
  return { kind: 'completed', input: { language: code.language }, output, ...identity };
}
