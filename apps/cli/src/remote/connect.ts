import { AiopsApiError, AiopsClient } from '@aiops/sdk';
import { type Connection, resolveConnection } from './profiles.ts';
import { UsageError } from './workflow-file.ts';

/** Exit codes of the commands that talk to a server (README "CLI and SDK"). */
export const EXIT = {
  ok: 0,
  /** The run failed or timed out; `validate` found problems. */
  failed: 1,
  /** The command could not do what was asked: bad arguments or file, not logged in, refused by the server. */
  usage: 2,
  /** The run was cancelled. */
  cancelled: 3,
} as const;

export interface GlobalOptions {
  profile?: string;
}

export function clientFor(connection: Pick<Connection, 'url' | 'token'>): AiopsClient {
  return new AiopsClient({
    baseUrl: connection.url,
    token: connection.token,
    headers: { 'user-agent': 'aiops-cli' },
    retry: {
      onRetry: ({ waitSeconds }) =>
        process.stderr.write(`aiops: rate limited; retrying in ${Math.ceil(waitSeconds)} s\n`),
    },
  });
}

/** The client of the profile (or AIOPS_URL/AIOPS_TOKEN) the command runs against. */
export function connect(options: GlobalOptions): { client: AiopsClient; connection: Connection } {
  const connection = resolveConnection(options.profile);
  return { client: clientFor(connection), connection };
}

/** Prints why a command failed, in one line (plus each invalid field), and exits with code 2. */
export function remoteFail(error: unknown): never {
  if (error instanceof AiopsApiError) {
    process.stderr.write(`aiops: ${error.message} (${error.code}, HTTP ${error.status})\n`);
    const issues = error.details?.issues;
    if (Array.isArray(issues)) {
      for (const i of issues as { path?: string; message?: string }[]) {
        process.stderr.write(`  ${i.path ?? ''}: ${i.message ?? ''}\n`);
      }
    }
  } else if (error instanceof UsageError) {
    process.stderr.write(`aiops: ${error.message}\n`);
  } else if (isUnreachable(error)) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    process.stderr.write(`aiops: cannot reach the server (${cause}); is it running and the URL right?\n`);
  } else if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
    process.stderr.write(`aiops: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(
      `aiops: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(EXIT.usage);
}

function isUnreachable(error: unknown): boolean {
  if (!(error instanceof TypeError) || error.message !== 'fetch failed') return false;
  return true;
}
