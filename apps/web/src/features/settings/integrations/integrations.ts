import type {
  Integration,
  IntegrationInput,
  IntegrationProvider,
  IntegrationUpdate,
} from '../../../api/types.ts';

/** What the add form knows of each provider: its label, whether a key is needed, and the base URL field. */
interface ProviderInfo {
  label: string;
  /** ollama and openai-compatible servers often run without a key. */
  keyRequired: boolean;
  /** 'required': the form asks for it; 'optional': shown with the provider's default as placeholder. */
  baseUrl: 'required' | 'optional' | 'none';
  baseUrlPlaceholder?: string;
  /** The connection test needs a model name when the provider has no default small model. */
  testModelRequired: boolean;
}

export const PROVIDERS: Record<IntegrationProvider, ProviderInfo> = {
  openai: { label: 'OpenAI', keyRequired: true, baseUrl: 'optional', testModelRequired: false },
  anthropic: { label: 'Anthropic', keyRequired: true, baseUrl: 'none', testModelRequired: false },
  google: { label: 'Google Gemini', keyRequired: true, baseUrl: 'none', testModelRequired: false },
  xai: { label: 'xAI', keyRequired: true, baseUrl: 'none', testModelRequired: false },
  cohere: { label: 'Cohere', keyRequired: true, baseUrl: 'none', testModelRequired: false },
  perplexity: { label: 'Perplexity', keyRequired: true, baseUrl: 'none', testModelRequired: false },
  ollama: {
    label: 'Ollama',
    keyRequired: false,
    baseUrl: 'optional',
    baseUrlPlaceholder: 'http://localhost:11434',
    testModelRequired: false,
  },
  'openai-compatible': {
    label: 'OpenAI-compatible server',
    keyRequired: false,
    baseUrl: 'required',
    baseUrlPlaceholder: 'http://host:8000/v1',
    testModelRequired: true,
  },
};

export const PROVIDER_IDS = Object.keys(PROVIDERS) as IntegrationProvider[];

export function providerLabel(provider: string): string {
  return (PROVIDERS as Record<string, ProviderInfo | undefined>)[provider]?.label ?? provider;
}

export interface IntegrationForm {
  provider: IntegrationProvider;
  name: string;
  apiKey: string;
  baseUrl: string;
  testModel: string;
}

export const emptyForm = (provider: IntegrationProvider = 'openai'): IntegrationForm => ({
  provider,
  name: '',
  apiKey: '',
  baseUrl: '',
  testModel: '',
});

/** What is missing before the form can be sent, in words; null when it can be sent. */
export function formProblem(form: IntegrationForm): string | null {
  const info = PROVIDERS[form.provider];
  if (!form.name.trim()) return 'Give the integration a name.';
  if (info.keyRequired && !form.apiKey.trim()) return `${info.label} needs an API key.`;
  if (info.baseUrl === 'required' && !form.baseUrl.trim()) return `${info.label} needs a base URL.`;
  if (form.baseUrl.trim() && !/^https?:\/\/\S+$/.test(form.baseUrl.trim()))
    return 'The base URL starts with http:// or https://.';
  if (info.testModelRequired && !form.testModel.trim())
    return 'Name a model the connection test can call (e.g. llama-3.1-8b).';
  return null;
}

function configOf(form: IntegrationForm): Record<string, string> {
  const config: Record<string, string> = {};
  if (PROVIDERS[form.provider].baseUrl !== 'none' && form.baseUrl.trim())
    config.baseUrl = form.baseUrl.trim();
  if (form.testModel.trim()) config.testModel = form.testModel.trim();
  return config;
}

/** The POST /integrations body of the add form (empty optional fields are left out). */
export function createBody(form: IntegrationForm): IntegrationInput {
  const body: IntegrationInput = {
    name: form.name.trim(),
    provider: form.provider,
    category: 'llm_provider',
    config: configOf(form),
  };
  if (form.apiKey.trim()) body.credentials = { apiKey: form.apiKey.trim() };
  return body;
}

/** The form filled from an existing integration (the key is never sent back: it stays empty). */
export function formOf(integration: Integration): IntegrationForm {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    provider: (PROVIDER_IDS as string[]).includes(integration.provider)
      ? (integration.provider as IntegrationProvider)
      : 'openai-compatible',
    name: integration.name,
    apiKey: '',
    baseUrl: str(integration.config.baseUrl),
    testModel: str(integration.config.testModel),
  };
}

/**
 * The PATCH body of the edit form: only what changed. An empty key field keeps the current key; a new
 * one rotates it. The rest of the config (headers, organization…) is kept as it was.
 */
export function updateBody(before: Integration, form: IntegrationForm): IntegrationUpdate | null {
  const body: IntegrationUpdate = {};
  if (form.name.trim() !== before.name) body.name = form.name.trim();
  const next: Record<string, unknown> = { ...before.config };
  delete next.baseUrl;
  delete next.testModel;
  Object.assign(next, configOf(form));
  if (JSON.stringify(sortKeys(next)) !== JSON.stringify(sortKeys(before.config))) body.config = next;
  if (form.apiKey.trim()) body.credentials = { apiKey: form.apiKey.trim() };
  return Object.keys(body).length > 0 ? body : null;
}

function sortKeys(o: Record<string, unknown>): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

/** The status in words: what it means and, for an error, what the provider said. */
export function statusWords(i: Pick<Integration, 'status' | 'lastError' | 'lastTestedAt'>): string {
  switch (i.status) {
    case 'connected':
      return 'The last test reached the provider.';
    case 'pending':
      return 'Not tested yet: press Test.';
    case 'disconnected':
      return 'Disconnected: agents cannot use it until a test succeeds.';
    case 'error':
      return i.lastError ? humanError(i.lastError) : 'The last test failed.';
  }
}

/** `provider_auth_failed: Incorrect API key…` → `The provider refused the key: Incorrect API key…`. */
export function humanError(lastError: string): string {
  const m = /^([a-z_]+): (.*)$/s.exec(lastError);
  if (!m) return lastError;
  const [, code, message] = m as unknown as [string, string, string];
  const prefix: Record<string, string> = {
    provider_auth_failed: 'The provider refused the key',
    provider_unavailable: 'The provider could not be reached',
    provider_rate_limited: 'The provider is rate limiting',
    provider_invalid_request: 'The provider rejected the request',
    validation_error: 'The settings are not valid',
  };
  return `${prefix[code] ?? 'The last test failed'}: ${message}`;
}
