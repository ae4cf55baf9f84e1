import type { CodeLimits, ModelPort } from '@aiops/core';
import type { AgentConfiguration } from '@aiops/db';
import type { OutboundPolicy } from '@aiops/providers';
import type { CompiledVersion } from '../../catalog.ts';
import type { CodeSandbox } from '../../code/sandbox.ts';
import type { AgentMemory } from '../../memory.ts';
import type { StepObserver } from '../../observability/step-observer.ts';
import type { ClaimedStep } from '../../sql/claim-steps.ts';
import type { StepOutcome } from '../../sql/complete-steps.ts';
import type { TokenPublisher } from '../../tokens.ts';

/** Starts the child run of a sub-workflow node; repeated calls for the same step return the same run. */
export type StartChild = (
  step: ClaimedStep,
  child: { workflowId: string; version?: number; input: unknown },
) => Promise<{ runId: string }>;

/** Where an external agent is reached: its `webhook_url`, and its signing secret when it has one. */
export interface ExternalAgentTarget {
  name: string;
  webhookUrl: string | null;
  /** The decrypted `whsec_…` secret, or null when the agent has none (the call is then unsigned). */
  secret: string | null;
}

/** What executing a node needs besides the step itself. */
export interface StepContext {
  compiled: CompiledVersion;
  /** Outputs of the nodes this node reads, by node id. */
  outputs: Record<string, unknown>;
  /** The pinned agent configuration, for agent nodes that reference an org agent. */
  agent?: AgentConfiguration;
  model: ModelPort;
  signal: AbortSignal;
  startChild: StartChild;
  now: () => Date;
  /** Deepest chain of sub-workflows allowed. */
  maxDepth: number;
  /** The organization's outbound policy for tools and MCP servers (cached by the worker). */
  network: (organizationId: string) => Promise<OutboundPolicy>;
  /** Commands an agent's MCP server may run over stdio (operator's allow-list). */
  mcpStdioCommands: readonly string[];
  /** What the run may still spend (USD), from its budget and its organization's monthly budget. */
  budget: (step: ClaimedStep) => number | undefined;
  /** Short-term and semantic memory of agents. */
  memory: AgentMemory;
  /** Streams model text to the run's event stream. */
  tokens: TokenPublisher;
  /** The sandbox of code steps and code agents, and the limits of an organization's tier. */
  code: { sandbox: CodeSandbox; limits: (organizationId: string) => Promise<CodeLimits> };
  /** Where an external agent (kind `external`) is reached, read when its step runs; undefined: no such agent. */
  externalAgent: (organizationId: string, agentId: string) => Promise<ExternalAgentTarget | undefined>;
  /** This attempt's log lines and spans (absent when tracing is off). */
  observer?: StepObserver | undefined;
}

export type NodeResult = Omit<StepOutcome, 'step' | 'startedAt' | 'finishedAt' | 'retryDelayMs' | 'nodeType'>;
