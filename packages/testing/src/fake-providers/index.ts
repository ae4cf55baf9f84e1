export { anthropicWireFormat, startFakeAnthropic } from './anthropic.ts';
export { COHERE_TEMPLATE_TOKENS, cohereWireFormat, startFakeCohere } from './cohere.ts';
export { GOOGLE_RETRY_DELAY_SECONDS, googleWireFormat, startFakeGoogle } from './google.ts';
export {
  FAKE_EMBEDDING_DIMENSIONS,
  fakeEmbedding,
  type OpenAIDialect,
  openAIUnauthorized,
  openAIWireFormat,
  startFakeOpenAI,
} from './openai.ts';
export {
  type Exchange,
  type FakeProviderOptions,
  type FakeProviderServer,
  type FakeReply,
  type FakeToolCall,
  type FakeUsage,
  type RecordedRequest,
  startFakeProvider,
  type WireFormat,
} from './server.ts';
