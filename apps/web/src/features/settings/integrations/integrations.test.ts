import { describe, expect, it } from 'vitest';
import type { Integration } from '../../../api/types.ts';
import {
  createBody,
  emptyForm,
  formOf,
  formProblem,
  humanError,
  statusWords,
  updateBody,
} from './integrations.ts';

const integration = (over: Partial<Integration> = {}): Integration => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'local llm',
  category: 'llm_provider',
  provider: 'openai-compatible',
  config: { baseUrl: 'http://127.0.0.1:9000/v1', testModel: 'tiny', headers: { 'x-team': 'a' } },
  hasCredentials: true,
  credentialHint: 'sk-…abcd',
  credentialsKeyId: 'k1',
  isDefault: true,
  status: 'pending',
  lastError: null,
  lastTestedAt: null,
  connectedAt: null,
  usage: { requests: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: '0', lastUsedAt: null },
  createdBy: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...over,
});

describe('integration form', () => {
  it('asks for what each provider needs', () => {
    expect(formProblem({ ...emptyForm('openai'), name: '' })).toMatch(/name/);
    expect(formProblem({ ...emptyForm('openai'), name: 'prod' })).toMatch(/needs an API key/);
    expect(formProblem({ ...emptyForm('openai'), name: 'prod', apiKey: 'sk-12345678' })).toBeNull();
    const compatible = { ...emptyForm('openai-compatible'), name: 'vllm' };
    expect(formProblem(compatible)).toMatch(/needs a base URL/);
    expect(formProblem({ ...compatible, baseUrl: 'localhost:8000' })).toMatch(/http:\/\//);
    expect(formProblem({ ...compatible, baseUrl: 'http://localhost:8000/v1' })).toMatch(/model/);
    expect(formProblem({ ...compatible, baseUrl: 'http://localhost:8000/v1', testModel: 'm' })).toBeNull();
    expect(formProblem({ ...emptyForm('ollama'), name: 'local' })).toBeNull();
  });

  it('sends only the filled fields; no key for a keyless server, no base URL where none applies', () => {
    expect(
      createBody({
        ...emptyForm('openai-compatible'),
        name: ' vllm ',
        baseUrl: 'http://h/v1',
        testModel: 'm',
      }),
    ).toEqual({
      name: 'vllm',
      provider: 'openai-compatible',
      category: 'llm_provider',
      config: { baseUrl: 'http://h/v1', testModel: 'm' },
    });
    expect(
      createBody({ ...emptyForm('anthropic'), name: 'a', apiKey: ' sk-ant-123456 ', baseUrl: 'http://x' }),
    ).toEqual({
      name: 'a',
      provider: 'anthropic',
      category: 'llm_provider',
      config: {},
      credentials: { apiKey: 'sk-ant-123456' },
    });
  });

  it('an edit sends only what changed: an empty key keeps it, a new one rotates it, other config stays', () => {
    const before = integration();
    expect(updateBody(before, formOf(before))).toBeNull();
    expect(updateBody(before, { ...formOf(before), apiKey: 'new-key-123' })).toEqual({
      credentials: { apiKey: 'new-key-123' },
    });
    expect(updateBody(before, { ...formOf(before), name: 'renamed', baseUrl: 'http://10.0.0.2/v1' })).toEqual(
      {
        name: 'renamed',
        config: { baseUrl: 'http://10.0.0.2/v1', testModel: 'tiny', headers: { 'x-team': 'a' } },
      },
    );
  });
});

describe('integration status in words', () => {
  it('says what each status means and turns the error code into words', () => {
    expect(statusWords(integration())).toMatch(/Not tested yet/);
    expect(statusWords(integration({ status: 'connected' }))).toMatch(/reached the provider/);
    expect(
      statusWords(
        integration({ status: 'error', lastError: 'provider_auth_failed: Incorrect API key provided' }),
      ),
    ).toBe('The provider refused the key: Incorrect API key provided');
    expect(humanError('odd_code: something')).toBe('The last test failed: something');
    expect(humanError('no code here')).toBe('no code here');
  });
});
