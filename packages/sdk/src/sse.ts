import { EventSourceParserStream } from 'eventsource-parser/stream';

/** One Server-Sent Event as sent: its `id`, `event` name and `data` text. */
export interface ServerSentEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** The events of a `text/event-stream` body, in order, until the body ends. */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent> {
  const reader = body
    .pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>)
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield { id: value.id, event: value.event, data: value.data };
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
