import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Stats } from '../../ui/page.tsx';
import { NewConversation } from './NewConversation.tsx';
import { type ChatStreamEvent, sendStreaming } from './stream.ts';
import type { Conversation, Message, Participant } from './types.ts';

/** Multi-model chat: pick participants and a mode, see the answers stream side by side, rate them. */
export default function ChatPage() {
  const [selected, setSelected] = useState<string | null>(null);
  const list = useQuery({
    queryKey: ['conversations'],
    queryFn: () => call(sdk.api.GET('/api/v1/conversations', { params: { query: { limit: 100 } } })),
  });
  const current = list.data?.data.find((c) => c.id === selected) ?? null;
  return (
    <section>
      <PageHeader title="Chat" />
      <ErrorText error={list.error} />
      <div className="grid grid-cols-[260px_minmax(0,1fr)] gap-4">
        <aside aria-label="Conversations">
          <NewConversation onCreated={(id) => setSelected(id)} />
          <ul className="flex flex-col gap-1">
            {list.data?.data.map((c) => (
              <li key={c.id}>
                <button
                  type="button"
                  onClick={() => setSelected(c.id)}
                  aria-current={c.id === selected ? 'true' : undefined}
                  className="w-full rounded-md px-2 py-1.5 text-left text-sm hover:bg-muted aria-[current=true]:bg-muted aria-[current=true]:font-semibold"
                >
                  {c.title || c.participants.map((p) => p.name).join(' · ')}
                  <span className="block text-xs text-muted-foreground">
                    {c.mode} · {formatCost(c.totalCost)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </aside>
        {current ? (
          <ConversationView key={current.id} conversation={current} />
        ) : (
          <Empty title="Compare models side by side">
            <p>
              Start a conversation with one or more participants — models through your integrations, or the
              built-in simulator (<code>simulator:echo</code>). In <b>multi</b> mode every participant answers
              at once; in <b>collaborative</b> mode they take turns and one writes a synthesis.
            </p>
          </Empty>
        )}
      </div>
    </section>
  );
}

type Live = Record<string, { participantId: string; round: number; kind: string; text: string }>;

function ConversationView({ conversation }: { conversation: Conversation }) {
  const client = useQueryClient();
  const messages = useQuery({
    queryKey: ['conversation-messages', conversation.id],
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/conversations/{id}/messages', {
          params: { path: { id: conversation.id }, query: { limit: 200 } },
        }),
      ),
  });
  const [draft, setDraft] = useState('');
  const [live, setLive] = useState<Live>({});
  const [pending, setPending] = useState<Message[]>([]);
  const send = useMutation({
    mutationFn: (content: string) =>
      sendStreaming(conversation.id, content, (e: ChatStreamEvent) => {
        if (e.type === 'message' || e.type === 'answer') {
          setPending((p) => [...p, e.message]);
          if (e.type === 'answer')
            setLive((l) => {
              const { [`${e.message.senderId}:${e.message.round}:${e.message.kind}`]: _, ...rest } = l;
              return rest;
            });
        } else if (e.type === 'answer.started' || e.type === 'token') {
          const key = `${e.participantId}:${e.round}:${e.kind}`;
          setLive((l) => ({
            ...l,
            [key]: {
              participantId: e.participantId,
              round: e.round,
              kind: e.kind,
              text: (l[key]?.text ?? '') + (e.type === 'token' ? e.delta : ''),
            },
          }));
        } else if (e.type === 'error') throw new Error(e.error.message);
      }),
    onSettled: async () => {
      await client.invalidateQueries({ queryKey: ['conversation-messages', conversation.id] });
      await client.invalidateQueries({ queryKey: ['conversations'] });
      setPending([]);
      setLive({});
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!draft.trim()) return;
    send.mutate(draft.trim());
    setDraft('');
  };
  const stored = messages.data?.data ?? [];
  const all = [...stored, ...pending.filter((p) => !stored.some((s) => s.id === p.id))];
  const users = all.filter((m) => m.senderType === 'user');
  return (
    <div className="min-w-0">
      <Stats inline>
        <dt>Mode</dt>
        <dd>{conversation.mode}</dd>
        <dt>Participants</dt>
        <dd>{conversation.participants.map((p) => `${p.name} (${p.model})`).join(', ')}</dd>
        <dt>Tokens</dt>
        <dd data-testid="conversation-tokens">{conversation.totalTokens}</dd>
        <dt>Cost</dt>
        <dd data-testid="conversation-cost">{formatCost(conversation.totalCost)}</dd>
      </Stats>
      <ErrorText error={messages.error ?? send.error} />
      {users.map((u) => (
        <Exchange
          key={u.id}
          conversation={conversation}
          user={u}
          answers={all.filter((m) => m.replyTo === u.id)}
          live={u === users.at(-1) ? Object.values(live) : []}
        />
      ))}
      {users.length === 0 && Object.keys(live).length === 0 && (
        <p className="text-sm text-muted-foreground">No messages yet: ask something below.</p>
      )}
      <form onSubmit={submit} className="mt-3 flex gap-2">
        <label className="sr-only" htmlFor="chat-input">
          Message
        </label>
        <textarea
          id="chat-input"
          className="min-h-16 flex-1 rounded-md border border-input bg-card p-2 text-sm"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder="Ask all participants…"
        />
        <Button type="submit" disabled={send.isPending}>
          {send.isPending ? 'Answering…' : 'Send'}
        </Button>
      </form>
    </div>
  );
}

function Exchange({
  conversation,
  user,
  answers,
  live,
}: {
  conversation: Conversation;
  user: Message;
  answers: Message[];
  live: Live[string][];
}) {
  const rounds = [...new Set([...answers.map((a) => a.round), ...live.map((l) => l.round)])].sort(
    (a, b) => a - b,
  );
  const name = (id: string | null) => conversation.participants.find((p) => p.id === id)?.name ?? id ?? '';
  return (
    <Panel aria-label="Exchange">
      <p className="mb-2 whitespace-pre-wrap font-medium" data-testid="user-message">
        {user.content}
      </p>
      {rounds.map((round) => {
        const here = answers.filter((a) => a.round === round);
        const streaming = live.filter(
          (l) => l.round === round && !here.some((a) => a.senderId === l.participantId),
        );
        const kind = here[0]?.kind ?? streaming[0]?.kind;
        return (
          <div key={round} className="mb-2">
            {conversation.mode === 'collaborative' && (
              <h3 className="text-xs text-muted-foreground">
                {kind === 'synthesis' ? 'Synthesis' : `Round ${round}`}
              </h3>
            )}
            <div
              className="grid gap-2"
              style={{
                gridTemplateColumns: `repeat(${Math.max(1, here.length + streaming.length)}, minmax(0, 1fr))`,
              }}
            >
              {orderBy(conversation.participants, here).map((a) => (
                <AnswerCard key={a.id} conversationId={conversation.id} answer={a} name={name(a.senderId)} />
              ))}
              {streaming.map((l) => (
                <article
                  key={l.participantId}
                  className="rounded-md border p-2"
                  data-testid="answer-streaming"
                  aria-busy="true"
                >
                  <h4 className="text-sm font-semibold">{name(l.participantId)}</h4>
                  <p className="whitespace-pre-wrap text-sm">{l.text || '…'}</p>
                </article>
              ))}
            </div>
          </div>
        );
      })}
    </Panel>
  );
}

const orderBy = (participants: Participant[], answers: Message[]) =>
  [...answers].sort(
    (a, b) =>
      participants.findIndex((p) => p.id === a.senderId) - participants.findIndex((p) => p.id === b.senderId),
  );

function AnswerCard({
  conversationId,
  answer,
  name,
}: {
  conversationId: string;
  answer: Message;
  name: string;
}) {
  const client = useQueryClient();
  const rate = useMutation({
    mutationFn: (thumbs: 'up' | 'down') =>
      call(
        sdk.api.POST('/api/v1/conversations/{id}/messages/{messageId}/rating', {
          params: { path: { id: conversationId, messageId: answer.id } },
          body: { thumbs },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: ['conversation-messages', conversationId] }),
  });
  return (
    <article className="rounded-md border p-2" data-testid="answer" data-participant={answer.senderId ?? ''}>
      <h4 className="text-sm font-semibold">
        {name} <code className="text-xs font-normal">{answer.model}</code>
      </h4>
      {answer.status === 'failed' ? (
        <p className="text-sm text-destructive" role="alert">
          {answer.error?.code}: {answer.error?.message}
        </p>
      ) : (
        <p className="whitespace-pre-wrap text-sm">{answer.content}</p>
      )}
      <p className="mt-1 text-xs text-muted-foreground" data-testid="answer-cost">
        {answer.tokens.total} tokens · {formatCost(answer.cost)} · {formatDuration(answer.latencyMs)}
      </p>
      {answer.status === 'completed' && (
        <div className="mt-1 flex items-center gap-1">
          <Button
            size="sm"
            variant="outline"
            aria-label={`Rate ${name} up`}
            aria-pressed={answer.rating === 5}
            onClick={() => rate.mutate('up')}
          >
            Good
          </Button>
          <Button
            size="sm"
            variant="outline"
            aria-label={`Rate ${name} down`}
            aria-pressed={answer.rating === 1}
            onClick={() => rate.mutate('down')}
          >
            Bad
          </Button>
          {answer.rating !== null && (
            <span className="text-xs text-muted-foreground">rated {answer.rating}/5</span>
          )}
        </div>
      )}
    </article>
  );
}
