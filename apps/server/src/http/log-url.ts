import { SECRET_TOKEN_PATTERN } from '../services/tokens.ts';

/**
 * URLs are logged with their secrets masked: the product's own tokens anywhere in the URL (invitation
 * links), and in the query string every value whose name says it is a credential (`token=`, `key=`,
 * `api_key=`, `secret=`, `password=`, …) or whose value looks like one (`sk-…`, a JWT, a product token).
 */
const SECRET_NAME =
  /token|secret|passw|pwd|api[-_]?key|^key$|[-_.]key$|^sk$|^auth$|^authorization$|^code$|credential|signature|^sig$/i;
const SECRET_VALUE = /^(sk|pk|rk)-|^eyJ[\w-]+\.|^(aio|rt|inv|evt|prt)_/i;
const REDACTED = '[redacted]';

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export function redactUrl(url: string): string {
  const masked = url.replace(SECRET_TOKEN_PATTERN, (m) => `${m.slice(0, m.indexOf('_') + 1)}${REDACTED}`);
  const q = masked.indexOf('?');
  if (q < 0) return masked;
  const hash = masked.indexOf('#', q);
  const query = masked.slice(q + 1, hash < 0 ? undefined : hash);
  const params = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return pair;
    const name = decoded(pair.slice(0, eq));
    const value = decoded(pair.slice(eq + 1));
    return SECRET_NAME.test(name) || SECRET_VALUE.test(value) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
  });
  return `${masked.slice(0, q)}?${params.join('&')}${hash < 0 ? '' : masked.slice(hash)}`;
}
