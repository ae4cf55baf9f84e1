import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from './workflow-file.ts';

/** One server and the credential to use there (an API key, or a user access token). */
export interface Profile {
  url: string;
  token: string;
}

export interface ProfilesFile {
  currentProfile: string;
  profiles: Record<string, Profile>;
}

/** `$XDG_CONFIG_HOME/aiops/config.json` (default `~/.config/aiops/config.json`). */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || path.join(env.HOME || homedir(), '.config');
  return path.join(base, 'aiops', 'config.json');
}

export function readProfiles(file = configFile()): ProfilesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { currentProfile: 'default', profiles: {} };
    throw e;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ProfilesFile>;
    return {
      currentProfile: typeof parsed.currentProfile === 'string' ? parsed.currentProfile : 'default',
      profiles: parsed.profiles && typeof parsed.profiles === 'object' ? parsed.profiles : {},
    };
  } catch {
    throw new UsageError(`${file} is not valid JSON: fix or delete it, then run aiops login`);
  }
}

/** Writes the file readable by its owner only (it holds credentials), atomically. */
export function writeProfiles(data: ProfilesFile, file = configFile()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export interface Connection {
  url: string;
  token: string;
  /** Where it came from, for messages: `profile "default"`, `AIOPS_URL/AIOPS_TOKEN`. */
  source: string;
}

/**
 * The server and credential of a command: the profile (`--profile`, AIOPS_PROFILE, or the current one),
 * each field overridden by AIOPS_URL / AIOPS_TOKEN when set.
 */
export function resolveConnection(profileName?: string, env: NodeJS.ProcessEnv = process.env): Connection {
  const data = readProfiles(configFile(env));
  const name = profileName ?? env.AIOPS_PROFILE ?? data.currentProfile;
  const profile = data.profiles[name];
  if ((profileName || env.AIOPS_PROFILE) && !profile && !(env.AIOPS_URL && env.AIOPS_TOKEN)) {
    throw new UsageError(`no profile "${name}" in ${configFile(env)}: run aiops login --profile ${name}`);
  }
  const url = env.AIOPS_URL?.trim() || profile?.url;
  const token = env.AIOPS_TOKEN?.trim() || profile?.token;
  if (!url || !token) {
    throw new UsageError('not logged in: run aiops login --url <server> (or set AIOPS_URL and AIOPS_TOKEN)');
  }
  const overridden = [env.AIOPS_URL?.trim() && 'AIOPS_URL', env.AIOPS_TOKEN?.trim() && 'AIOPS_TOKEN'].filter(
    Boolean,
  );
  return {
    url: url.replace(/\/+$/, ''),
    token,
    source: overridden.length ? overridden.join('/') : `profile "${name}"`,
  };
}
