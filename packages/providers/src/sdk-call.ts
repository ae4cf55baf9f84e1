/**
 * One `ModelRequest` through the AI SDK: `generateText`, or `streamText` when the caller wants tokens as they
 * arrive; tools run in the SDK's loop up to `maxSteps`; structured output through `Output.object`.
 * Retries are the engine's job, so the SDK makes none (`maxRetries: 0`).
 */
import type { ClientModelTool, ModelRequest, ModelTool, ModelToolCall, ModelUsage } from '@aiops/core';
import {
  generateText,
  type LanguageModel,
  type ModelMessage,
  Output,
  type StepResult,
  type StopCondition,
  stepCountIs,
  streamText,
  type ToolSet,
  tool,
} from 'ai';
import { validatingSchema } from './json-schema.ts';
import { renderPromptText } from './render.ts';
import { countTokens } from './tokenizer.ts';
import { stepUsage } from './usage.ts';

/** Model ↔ tool round trips when the request has tools and names no `maxSteps`. */
export const DEFAULT_MAX_STEPS = 5;

export interface SdkCallInput {
  request: ModelRequest;
  model: LanguageModel;
  provider: string;
  /** The output cap actually sent (the budget check may have set one). */
  maxTokens: number | undefined;
  /**
   * Asked before each further step of a tool loop with the usage of the steps so far and the size of the
   * next request (the last one's input plus its answer and tool results): true stops the loop (the budget
   * guard).
   */
  stopBeforeNextStep?: (usageSoFar: ModelUsage[], nextPromptTokens: number) => boolean;
}

export interface SdkCallOutput {
  text: string;
  output?: unknown;
  finishReason: string;
  toolCalls: ModelToolCall[];
  /** One per model request made, in order. */
  stepUsages: ModelUsage[];
}

type Steps = StepResult<ToolSet>[];

export function toModelMessages(request: ModelRequest): ModelMessage[] {
  const out: ModelMessage[] = [];
  // tool calls of assistant turns in the history: their results are passed as real tool results
  const called = new Map<string, string>();
  for (const m of request.messages ?? []) {
    if (m.role === 'assistant' && m.toolCalls?.length) {
      for (const c of m.toolCalls) called.set(c.id, c.name);
      out.push({
        role: 'assistant',
        content: [
          ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
          ...m.toolCalls.map((c) => ({
            type: 'tool-call' as const,
            toolCallId: c.id,
            toolName: c.name,
            input: c.input,
          })),
        ],
      });
    } else if (m.role === 'tool' && m.toolCallId && called.has(m.toolCallId)) {
      out.push({
        role: 'tool',
        content: [
          {
            type: 'tool-result',
            toolCallId: m.toolCallId,
            toolName: m.toolName ?? called.get(m.toolCallId)!,
            output: { type: 'text', value: m.content },
          },
        ],
      });
    } else if (m.role === 'tool') {
      // A tool result needs the assistant turn that called it, which ChatMessage does not carry; it is
      // passed as text so every provider accepts it.
      out.push({
        role: 'user',
        content: `[result of tool ${m.toolName ?? 'call'}${m.toolCallId ? ` ${m.toolCallId}` : ''}]\n${m.content}`,
      });
    } else {
      out.push({ role: m.role, content: m.content });
    }
  }
  if (request.images?.length)
    out.push({
      role: 'user',
      content: [
        { type: 'text', text: request.prompt ?? '' },
        ...request.images.map((i) => ({ type: 'image' as const, image: i.data, mediaType: i.mediaType })),
      ],
    });
  else if (request.prompt !== undefined && request.prompt !== '')
    out.push({ role: 'user', content: request.prompt });
  return out;
}

export function toSdkTools(tools: readonly ModelTool[], signal: AbortSignal): ToolSet {
  const set: ToolSet = {};
  for (const t of tools) {
    set[t.name] = tool({
      description: t.description,
      inputSchema: validatingSchema(t.inputSchema),
      execute: (input: unknown, options) => t.execute(input, options.abortSignal ?? signal),
    });
  }
  return set;
}

/** Tools without `execute`: the SDK ends the step at the model's calls to them. */
function toClientTools(tools: readonly ClientModelTool[]): ToolSet {
  const set: ToolSet = {};
  for (const t of tools)
    set[t.name] = tool({ description: t.description, inputSchema: validatingSchema(t.inputSchema) });
  return set;
}

function collectToolCalls(steps: Steps): ModelToolCall[] {
  const calls: ModelToolCall[] = [];
  for (const step of steps) {
    for (const part of step.content) {
      if (part.type === 'tool-call')
        calls.push({ id: part.toolCallId, name: part.toolName, input: part.input });
      else if (part.type === 'tool-result') {
        const call = calls.find((c) => c.id === part.toolCallId);
        if (call) call.output = part.output;
      } else if (part.type === 'tool-error') {
        const call = calls.find((c) => c.id === part.toolCallId);
        const message = part.error instanceof Error ? part.error.message : String(part.error);
        if (call) call.error = message;
      }
    }
  }
  return calls;
}

function usagesOf(provider: string, request: ModelRequest, steps: Steps): ModelUsage[] {
  const prompt = renderPromptText(request);
  return steps.map((step, i) =>
    stepUsage(provider, {
      usage: step.usage,
      estimate: () => ({
        // what this request re-sent: the prompt plus every earlier step's answer and tool traffic
        inputText: [prompt, ...steps.slice(0, i).map(stepTranscript)].join('\n'),
        outputText: stepTranscript(step),
      }),
    }),
  );
}

function stepTranscript(step: StepResult<ToolSet>): string {
  const calls = step.toolCalls.length ? JSON.stringify(step.toolCalls.map((c) => [c.toolName, c.input])) : '';
  const results = step.toolResults.length ? JSON.stringify(step.toolResults.map((r) => r.output)) : '';
  return [step.text, calls, results].filter(Boolean).join('\n');
}

export async function runSdkCall(input: SdkCallInput): Promise<SdkCallOutput> {
  const { request, provider } = input;
  const hasTools = !!request.tools?.length || !!request.clientTools?.length;
  const maxSteps = Math.max(1, request.maxSteps ?? (hasTools ? DEFAULT_MAX_STEPS : 1));
  const stopWhen: StopCondition<ToolSet>[] = [stepCountIs(maxSteps)];
  if (input.stopBeforeNextStep) {
    const guard = input.stopBeforeNextStep;
    stopWhen.push(({ steps }) => {
      if (steps.length >= maxSteps) return false; // the step cap ends the loop anyway
      const usages = usagesOf(provider, request, steps);
      const last = steps.at(-1);
      const next = (usages.at(-1)?.inputTokens ?? 0) + (last ? countTokens(stepTranscript(last)) : 0);
      return guard(usages, next);
    });
  }
  const settings = {
    model: input.model,
    system: request.system,
    messages: toModelMessages(request),
    // system messages in the history come from the agent's own definition, not from users' input
    allowSystemInMessages: true,
    temperature: request.temperature,
    topP: request.topP,
    maxOutputTokens: input.maxTokens,
    tools: hasTools
      ? {
          ...toSdkTools(request.tools ?? [], request.signal),
          ...toClientTools(request.clientTools ?? []),
        }
      : undefined,
    stopWhen,
    output: request.outputSchema
      ? Output.object({ schema: validatingSchema(request.outputSchema) })
      : undefined,
    abortSignal: request.signal,
    maxRetries: 0,
  };

  let steps: Steps;
  let text: string;
  let output: unknown;
  let finishReason: string;
  if (request.onToken) {
    const onToken = request.onToken;
    let failure: unknown;
    const result = streamText({
      ...settings,
      onError: ({ error }) => {
        failure ??= error;
      },
    });
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta' && part.text) onToken(part.text);
      else if (part.type === 'error') failure ??= part.error;
    }
    if (failure !== undefined) throw failure;
    steps = (await result.steps) as Steps;
    text = await result.text;
    finishReason = await result.finishReason;
    if (request.outputSchema) output = await result.output;
  } else {
    const result = await generateText(settings);
    steps = result.steps as Steps;
    text = result.text;
    finishReason = result.finishReason;
    if (request.outputSchema) output = result.output;
  }
  const out: SdkCallOutput = {
    text,
    finishReason,
    toolCalls: collectToolCalls(steps),
    stepUsages: usagesOf(provider, request, steps),
  };
  if (output !== undefined) out.output = output;
  return out;
}
