/**
 * The durable workflow engine.
 *
 * Glossary:
 * - run: one execution of a workflow version (`workflow_executions` row). Pinned to its version.
 * - node: a node of the definition (agent, output, …). A run has one step per node.
 * - step: the state of one node in one run (`run_steps` row): pending (waiting for predecessors),
 *   ready (queued), running (leased by a worker), completed, failed, skipped or cancelled.
 * - attempt: one execution of a step (`agent_executions` row), with input, output, tokens and cost.
 * - lease: a worker's claim on a running step until `lease_expires_at`; heartbeats renew it; an expired
 *   lease returns the step to the queue (the worker died).
 * - continuation: a worker that completes a step and finds a successor ready claims it in the same
 *   transaction and runs it without a queue round trip.
 * - event: a row of `run_events`, written in the transaction of the change it describes, and announced
 *   with NOTIFY so that event streams and waiting API calls learn of it.
 */

import type { EmbeddingPort, SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { AddressCategory, HostLookup } from '@aiops/providers';
import type { CodeSandbox } from './code/sandbox.ts';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Channels of LISTEN/NOTIFY. */
export const CHANNELS = {
  /** Steps became ready: workers should claim. Payload: empty. */
  wake: 'aiops_wake',
  /** New events for runs. Payload: JSON array of run ids. */
  runEvents: 'aiops_run_events',
  /** Runs stopped (cancelled, failed, timed out): workers abort their steps. Payload: JSON array of run ids. */
  cancel: 'aiops_cancel',
  /** A running model call's text deltas. Payload: a TokenDelta as JSON. */
  tokens: 'aiops_run_tokens',
} as const;

export interface WorkerOptions {
  /** Identifies the worker in leases and attempt rows. */
  workerId: string;
  /** Steps executing at once in this worker. */
  concurrency: number;
  /** Steps claimed per query. */
  claimBatch: number;
  /** Lease length; a step whose lease expires returns to the queue. */
  leaseMs: number;
  /** Heartbeat period (renews leases, notices cancellations); default leaseMs / 3. */
  heartbeatMs: number;
  /** Poll period when no NOTIFY arrives (fallback wake-up, timers). */
  pollMs: number;
  /** Period of the sweeper: expired leases, run timeouts. */
  sweepMs: number;
  /** Lost leases of one step before it fails (a step that always kills its worker). */
  maxLostLeases: number;
  /** Deepest chain of sub-workflows (a run at depth 0 may start children down to this depth). */
  maxDepth: number;
  /** Commands an agent's MCP server may run over stdio (the operator's allow-list; none by default). */
  mcpStdioCommands: readonly string[];
  /**
   * What an organization that allows private networks may reach (the operator's
   * AIOPS_PRIVATE_NETWORK_CATEGORIES); default `DEFAULT_PRIVATE_CATEGORIES`.
   */
  privateNetworkCategories?: readonly AddressCategory[];
  /** Name resolution for outbound checks (tests); default the system's. */
  lookup?: HostLookup;
  /** Embeddings for agents' semantic memory; without it only short-term memory works. */
  embeddings?: EmbeddingPort;
  /** Execution logs and spans (default on; the server passes its `AIOPS_TRACING` setting). */
  tracing?: boolean;
  /**
   * The sandbox of code steps (shared with the code test API); without it the worker starts its own pool
   * of `codeThreads` threads at its first code step and closes it when it stops.
   */
  codeSandbox?: CodeSandbox;
  /** Decrypts external agents' signing secrets (the server's SecretBox); without it their calls cannot be signed. */
  secrets?: SecretBox;
  /** Sandbox threads per memory class of the worker's own pool (default 2). */
  codeThreads?: number;
}

export const DEFAULT_WORKER_OPTIONS: Omit<WorkerOptions, 'workerId'> = {
  concurrency: 64,
  claimBatch: 32,
  leaseMs: 30_000,
  heartbeatMs: 10_000,
  pollMs: 500,
  sweepMs: 1_000,
  maxLostLeases: 10,
  maxDepth: 5,
  mcpStdioCommands: [],
};

export interface EngineDeps {
  db: Database;
  log?: Logger;
}
