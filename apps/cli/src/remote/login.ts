import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { clientFor } from './connect.ts';
import { configFile, readProfiles, writeProfiles } from './profiles.ts';
import { UsageError } from './workflow-file.ts';

export interface LoginOptions {
  url?: string;
  token?: string;
  withToken?: boolean;
  email?: string;
  totp?: string;
  profile?: string;
}

/** What the key `aiops login --email` creates may do: workflows and runs, never more than the user may. */
const CLI_SCOPES = [
  'workflow:read',
  'workflow:create',
  'workflow:update',
  'workflow:execute',
  'run:read',
  'run:cancel',
  'run:approve',
  'agent:read',
  'organization:read',
  // `aiops org export` (owners and admins; left out of other members' keys by the filter below).
  'organization:export',
] as const;

/**
 * `aiops login`: checks a credential against the server and saves it in a profile. With `--token` (or
 * `--with-token` from stdin) the token or API key is saved as given; with `--email`, signs in (password
 * from AIOPS_PASSWORD or a prompt) and saves a new API key for the CLI, so the profile does not expire
 * with the session.
 */
export async function login(options: LoginOptions): Promise<void> {
  const data = readProfiles();
  const name = options.profile ?? process.env.AIOPS_PROFILE ?? data.currentProfile ?? 'default';
  const url = (options.url ?? process.env.AIOPS_URL ?? data.profiles[name]?.url)?.replace(/\/+$/, '');
  if (!url) throw new UsageError('give the server: aiops login --url http://127.0.0.1:3000');
  if (!/^https?:\/\/[^/\s]+/.test(url)) throw new UsageError(`--url ${url}: must be an http(s) URL`);
  let token = options.withToken ? (await readLine('')).trim() : options.token?.trim();
  if (!token && !options.email && process.env.AIOPS_TOKEN) token = process.env.AIOPS_TOKEN.trim();
  if (!token) {
    if (!options.email) throw new UsageError('give --token <key>, --with-token (stdin) or --email <email>');
    token = await keyFromPassword(url, options.email, options.totp);
  }
  const me = await clientFor({ url, token }).call(clientFor({ url, token }).api.GET('/api/v1/me'));
  data.profiles[name] = { url, token };
  data.currentProfile = name;
  writeProfiles(data);
  const who = options.email ?? (me.user ? me.user.email : `API key ${me.apiKey?.name ?? ''}`);
  process.stdout.write(
    `Logged in to ${url} as ${who} (organization ${me.organization.name}); profile "${name}" saved in ${configFile()}\n`,
  );
}

async function keyFromPassword(url: string, email: string, totp: string | undefined): Promise<string> {
  const password = process.env.AIOPS_PASSWORD ?? (await readLine('Password: ', true));
  const anonymous = clientFor({ url, token: '' });
  const session = await anonymous.call(
    anonymous.api.POST('/api/v1/auth/login', {
      body: { email, password, ...(totp ? { totp } : {}) } as never,
    }),
  );
  const user = clientFor({ url, token: session.token });
  const me = await user.call(user.api.GET('/api/v1/me'));
  const scopes = CLI_SCOPES.filter((s) => (me.permissions as string[]).includes(s));
  if (!scopes.length) throw new UsageError(`${email} may not read workflows in ${me.organization.name}`);
  const created = await user.call(
    user.api.POST('/api/v1/api-keys', {
      body: { name: `aiops CLI on ${hostname()}`.slice(0, 255), scopes, rateLimit: 1000 },
    }),
  );
  // The session was only needed to create the key.
  await user.api.POST('/api/v1/auth/logout', { body: {} as never }).catch(() => undefined);
  return created.key;
}

/** One line from stdin; on a terminal, with a prompt and (for secrets) without echo. */
function readLine(prompt: string, secret = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({
      input: process.stdin,
      output: process.stderr,
      terminal: process.stdin.isTTY,
    });
    if (secret && process.stdin.isTTY) {
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) =>
        write.call(rl, s.startsWith(prompt) ? prompt : '');
    }
    let answered = false;
    rl.question(process.stdin.isTTY ? prompt : '', (answer) => {
      answered = true;
      rl.close();
      if (secret && process.stdin.isTTY) process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('close', () => {
      if (!answered) reject(new UsageError('no input on stdin'));
    });
  });
}

/** `aiops logout`: forgets a profile's credential (revoke the key in the studio or with the API). */
export function logout(options: { profile?: string }): void {
  const data = readProfiles();
  const name = options.profile ?? process.env.AIOPS_PROFILE ?? data.currentProfile;
  if (!data.profiles[name]) throw new UsageError(`no profile "${name}" in ${configFile()}`);
  delete data.profiles[name];
  writeProfiles(data);
  process.stdout.write(`Profile "${name}" removed from ${configFile()}\n`);
}
