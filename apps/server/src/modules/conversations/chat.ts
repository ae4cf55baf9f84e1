/**
 * One exchange of a conversation: the user's message, then the participants' answers as the mode says —
 * `single` (one participant), `multi` (all at once, side by side) or `collaborative` (turns for a number of
 * rounds, each seeing the answers so far, then a synthesis). Every answer is stored with its model, tokens,
 * cost and latency as soon as it is complete; a participant that fails is recorded as a failed answer while
 * the others go on. Text streams to `emit` as it arrives.
 */
import {
  AppError,
  type ChatMessage,
  isAppError,
  type ModelPort,
  type ModelRequest,
  type ModelResult,
} from '@aiops/core';
import type { ConversationParticipant, Database, MessageAttachmentRef, Tx } from '@aiops/db';
import { getAgent } from '@aiops/engine';
import { countTokens } from '@aiops/providers';
import { recordAgentCall } from '../agents/calls.ts';
import { observeAnswer } from '../learning/learn.ts';
import { glossaryFor } from '../terminology/glossary.ts';
import { loadAttachments } from './attachments.ts';
import * as repo from './repo.ts';

export const DEFAULT_HISTORY_TOKENS = 8000;
const CALL_TIMEOUT_MS = 120_000;

export type ChatEvent =
  | { type: 'message'; message: repo.MessageDto }
  | { type: 'answer.started'; participantId: string; round: number; kind: string }
  | { type: 'token'; participantId: string; round: number; kind: string; delta: string }
  | { type: 'answer'; message: repo.MessageDto }
  | { type: 'done'; conversation: repo.ConversationDto };

export interface ExchangeInput {
  content: string;
  attachments: string[];
  participants?: string[] | undefined;
}

export interface ExchangeScope {
  organizationId: string;
  userId: string | null;
  requestId: string;
}

interface Turn {
  participant: ConversationParticipant;
  round: number;
  kind: 'message' | 'synthesis';
  prompt: string;
}

interface Spend {
  left: number | undefined;
}

/** Runs one exchange; returns the user's message and the answers, in the order they completed. */
export async function runExchange(
  db: Database,
  model: ModelPort,
  scope: ExchangeScope,
  conversationId: string,
  input: ExchangeInput,
  emit: (e: ChatEvent) => void,
  /** Embeds the message for the glossary's semantic matches (the organization's embedding model). */
  embed?: (organizationId: string, texts: string[]) => Promise<number[][]>,
) {
  const tenant = <T>(fn: (tx: Tx) => Promise<T>) =>
    db.withTenant({ organizationId: scope.organizationId, userId: scope.userId }, fn);

  const prep = await tenant(async (tx) => {
    const conv = await repo.findConversation(tx, conversationId);
    const left = budgetLeft(conv, await repo.orgBudgetLeft(tx));
    if (left !== undefined && left <= 0)
      throw new AppError(
        402,
        'budget_exceeded',
        `The budget of conversation ${conv.id} is spent (${conv.totalCost} USD of ${conv.settings.budgetUsd ?? 'the organization’s monthly budget'}): raise settings.budgetUsd or start a new conversation`,
        { retryable: false, details: { totalCost: conv.totalCost } },
      );
    const files = await loadAttachments(tx, input.attachments);
    const refs: MessageAttachmentRef[] = files.map((f) => ({
      id: f.id,
      name: f.name,
      mediaType: f.mediaType,
      sizeBytes: f.sizeBytes,
    }));
    const history = await repo.historyOf(
      tx,
      conv.id,
      (conv.settings.historyTokens ?? DEFAULT_HISTORY_TOKENS) * conv.participants.length,
    );
    const userMessage = await repo.insertMessage(tx, {
      organizationId: scope.organizationId,
      conversationId: conv.id,
      senderType: 'user',
      senderId: scope.userId,
      content: input.content,
      attachments: refs,
    });
    const agents = new Map<string, Awaited<ReturnType<typeof getAgent>>>();
    for (const p of conv.participants)
      if (p.agentId && !agents.has(p.agentId)) agents.set(p.agentId, await getAgent(tx, p.agentId));
    return { conv, left, files, history, userMessage, agents };
  });
  const { conv, files, history, userMessage, agents } = prep;
  const glossary = conv.settings.glossary?.enabled
    ? await glossaryOf(
        db,
        tenant,
        conv.settings.glossary.tokenBudget,
        input.content,
        scope.organizationId,
        embed,
      )
    : undefined;
  const participants = chooseParticipants(conv.participants, conv.mode, input.participants);
  emit({ type: 'message', message: repo.messageDto(userMessage, conv.participants) });

  // What the models are sent: the shared context and system prompt, the glossary, text attachments inline.
  const baseSystem = [
    conv.systemPrompt ?? '',
    Object.keys(conv.context).length ? `Shared context:\n${JSON.stringify(conv.context, null, 2)}` : '',
    glossary?.block ?? '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const textFiles = files.filter((f) => !f.mediaType.startsWith('image/'));
  const images = files
    .filter((f) => f.mediaType.startsWith('image/'))
    .map((f) => ({ mediaType: f.mediaType, data: f.data }));
  const prompt = textFiles.length
    ? `${input.content}\n\n${textFiles.map((f) => `Attached file "${f.name}":\n${f.data}`).join('\n\n')}`
    : input.content;
  const historyTokens = conv.settings.historyTokens ?? DEFAULT_HISTORY_TOKENS;
  const spend: Spend = { left: prep.left };
  const answers: repo.MessageDto[] = [];

  const answer = async (turn: Turn, share: number): Promise<repo.MessageDto> => {
    const p = turn.participant;
    const agent = p.agentId ? agents.get(p.agentId) : undefined;
    const c = agent?.configuration;
    const system = [c?.systemPrompt ?? '', baseSystem].filter(Boolean).join('\n\n');
    const window = windowHistory(history, p, conv.mode, conv.participants, historyTokens);
    emit({ type: 'answer.started', participantId: p.id, round: turn.round, kind: turn.kind });
    const budget = spend.left === undefined ? undefined : Math.max(0, spend.left) / share;
    const started = performance.now();
    let result: ModelResult | undefined;
    let failure: { code: string; message: string } | undefined;
    let called = false;
    try {
      if (budget !== undefined && budget <= 0)
        throw new AppError(402, 'budget_exceeded', `The budget of conversation ${conv.id} is spent`, {
          retryable: false,
        });
      const request: ModelRequest = {
        model: c?.modelSettings.model ?? p.model,
        ...(system ? { system } : {}),
        prompt: turn.prompt,
        ...(window.messages.length ? { messages: window.messages } : {}),
        ...(images.length && turn.round <= 1 && turn.kind === 'message' ? { images } : {}),
        ...((p.temperature ?? c?.modelSettings.temperature) !== undefined
          ? { temperature: (p.temperature ?? c?.modelSettings.temperature) as number }
          : {}),
        ...((p.maxTokens ?? c?.modelSettings.maxTokens) !== undefined
          ? { maxTokens: (p.maxTokens ?? c?.modelSettings.maxTokens) as number }
          : {}),
        ...((p.integrationId ?? c?.integrationId)
          ? { integrationId: (p.integrationId ?? c?.integrationId)! }
          : {}),
        ...((p.simulate ?? c?.simulate) ? { simulate: (p.simulate ?? c?.simulate) as never } : {}),
        ...(budget !== undefined ? { budgetUsd: budget } : {}),
        attempt: 1,
        idempotencyKey: `conversation:${conv.id}:${userMessage.id}:${p.id}:${turn.kind}:${turn.round}`,
        organizationId: scope.organizationId,
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        onToken: (delta) =>
          emit({ type: 'token', participantId: p.id, round: turn.round, kind: turn.kind, delta }),
      };
      called = true;
      result = await model.call(request);
    } catch (e) {
      failure = isAppError(e)
        ? { code: e.code, message: e.message.slice(0, 2000) }
        : { code: 'model_call_failed', message: 'The model call failed' };
    }
    const latencyMs = Math.round(performance.now() - started);
    const cost = result ? (result.costUsdDecimal ?? String(result.costUsd ?? 0)) : '0';
    if (spend.left !== undefined) spend.left -= Number(cost);
    const row = await tenant(async (tx) => {
      const stored = await repo.insertMessage(tx, {
        organizationId: scope.organizationId,
        conversationId: conv.id,
        senderType: 'ai',
        senderId: p.id,
        model: result?.model ?? c?.modelSettings.model ?? p.model,
        kind: turn.kind,
        replyTo: userMessage.id,
        round: turn.round,
        status: result ? 'completed' : 'failed',
        content: result ? result.text : '',
        error: failure ?? null,
        metadata: {
          senderName: p.name,
          finishReason: result?.finishReason,
          estimatedTokens: result?.usage.estimated ?? false,
          priced: result?.priced ?? null,
          history: { sent: window.messages.length, dropped: window.dropped, tokens: window.tokens },
          ...(glossary?.ids.length ? { glossaryTerms: glossary.ids.length } : {}),
        },
        inputTokens: result?.usage.inputTokens ?? 0,
        outputTokens: result?.usage.outputTokens ?? 0,
        cost,
        latencyMs,
      });
      await observeAnswer(tx, {
        userId: scope.userId,
        taskKind: conv.settings.taskKind ?? 'chat',
        model: stored.model ?? p.model,
        costUsd: Number(cost),
        latencyMs,
        failed: !result,
      });
      // An agent's answer is a result of that agent (agent-scoped alert rules); a turn refused before any
      // call (the budget is spent) is not.
      if (p.agentId && called)
        await recordAgentCall(tx, {
          organizationId: scope.organizationId,
          agentId: p.agentId,
          source: 'conversation',
          conversationMessageId: stored.id,
          failed: !result,
          errorCode: failure?.code ?? null,
          model: stored.model,
          durationMs: latencyMs,
          cost,
        });
      return stored;
    });
    const dto = repo.messageDto(row, conv.participants);
    answers.push(dto);
    emit({ type: 'answer', message: dto });
    return dto;
  };

  if (conv.mode === 'collaborative') {
    const rounds = conv.settings.rounds ?? 1;
    const said: { name: string; round: number; text: string }[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const p of participants) {
        const msg = await answer(
          { participant: p, round, kind: 'message', prompt: collaborativePrompt(prompt, said) },
          1,
        );
        if (msg.status === 'completed') said.push({ name: p.name, round, text: msg.content });
      }
    }
    const synthesizer = conv.participants.find((p) => p.id === conv.settings.synthesizer) ?? participants[0]!;
    await answer(
      {
        participant: synthesizer,
        round: rounds + 1,
        kind: 'synthesis',
        prompt: synthesisPrompt(prompt, said),
      },
      1,
    );
  } else {
    await Promise.all(
      participants.map((p) =>
        answer({ participant: p, round: 1, kind: 'message', prompt }, participants.length),
      ),
    );
  }

  const conversation = await tenant(async (tx) =>
    repo.conversationDto(await repo.findConversation(tx, conv.id)),
  );
  emit({ type: 'done', conversation });
  return { message: repo.messageDto(userMessage, conv.participants), answers, conversation };
}

/**
 * The glossary for the message: embedded first (outside any transaction; an embedding failure costs only
 * the semantic matches), then matched and counted in a transaction of its own.
 */
async function glossaryOf(
  db: Database,
  tenant: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
  tokenBudget: number | undefined,
  content: string,
  organizationId: string,
  embed: ((organizationId: string, texts: string[]) => Promise<number[][]>) | undefined,
) {
  const embedding = embed
    ? await embed(organizationId, [content]).then(
        (v) => v[0],
        () => undefined,
      )
    : undefined;
  return tenant((tx) => glossaryFor(db.embeddings, tx, content, tokenBudget, 'conversation', embedding));
}

function budgetLeft(conv: repo.ConversationRow, orgLeft: number | undefined): number | undefined {
  const limits: number[] = [];
  if (conv.settings.budgetUsd !== undefined) limits.push(conv.settings.budgetUsd - Number(conv.totalCost));
  if (orgLeft !== undefined) limits.push(orgLeft);
  return limits.length ? Math.min(...limits) : undefined;
}

/** Who answers: the mode's participants, or the subset the caller named (unknown ids are a 400). */
function chooseParticipants(
  all: ConversationParticipant[],
  mode: string,
  named: string[] | undefined,
): ConversationParticipant[] {
  if (named?.length) {
    const unknown = named.filter((id) => !all.some((p) => p.id === id));
    if (unknown.length)
      throw new AppError(
        400,
        'bad_request',
        `body.participants: no participant ${unknown.join(', ')} in this conversation`,
        {
          retryable: false,
          details: { known: all.map((p) => p.id) },
        },
      );
    const chosen = all.filter((p) => named.includes(p.id));
    return mode === 'single' ? chosen.slice(0, 1) : chosen;
  }
  return mode === 'single' ? all.slice(0, 1) : all;
}

function collaborativePrompt(prompt: string, said: { name: string; round: number; text: string }[]): string {
  if (!said.length) return prompt;
  return `${prompt}\n\nAnswers so far:\n${said.map((s) => `[${s.name}, round ${s.round}]\n${s.text}`).join('\n\n')}\n\nGive your own answer, building on or correcting the answers so far.`;
}

function synthesisPrompt(prompt: string, said: { name: string; round: number; text: string }[]): string {
  return `Question:\n${prompt}\n\nThe participants answered:\n${said.map((s) => `[${s.name}, round ${s.round}]\n${s.text}`).join('\n\n')}\n\nWrite one synthesis of these answers: what they agree on, where they differ, and the best answer.`;
}

/**
 * The earlier messages this participant is sent, newest kept first until `maxTokens` is reached: the user's
 * messages, its own answers (as the assistant), and — in collaborative conversations — the syntheses. The
 * window starts with a user message.
 */
export function windowHistory(
  history: repo.MessageRow[],
  participant: ConversationParticipant,
  mode: string,
  participants: ConversationParticipant[],
  maxTokens: number,
): { messages: ChatMessage[]; dropped: number; tokens: number } {
  const relevant: ChatMessage[] = [];
  for (const m of history) {
    if (m.senderType === 'user') relevant.push({ role: 'user', content: m.content });
    else if (m.senderId === participant.id && m.kind === 'message' && mode !== 'collaborative')
      relevant.push({ role: 'assistant', content: m.content });
    else if (mode === 'collaborative' && m.kind === 'synthesis') {
      const name = participants.find((p) => p.id === m.senderId)?.name ?? 'synthesis';
      relevant.push({
        role: 'assistant',
        content: m.senderId === participant.id ? m.content : `[${name}] ${m.content}`,
      });
    }
  }
  let tokens = 0;
  let start = relevant.length;
  while (start > 0) {
    const t = countTokens(relevant[start - 1]!.content);
    if (tokens + t > maxTokens) break;
    tokens += t;
    start -= 1;
  }
  while (start < relevant.length && relevant[start]!.role !== 'user') {
    tokens -= countTokens(relevant[start]!.content);
    start += 1;
  }
  return { messages: relevant.slice(start), dropped: start, tokens };
}
