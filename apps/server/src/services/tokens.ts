import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/**
 * Secrets handed to clients. Each kind has a prefix so it is recognisable (and redacted from logs):
 * `aio_` API keys, `agk_` external agents' keys, `rt_` refresh tokens, `inv_` invitations, `evt_` email verification, `prt_` password
 * reset. Only their SHA-256 is stored: they are 256 random bits, so a slow hash adds nothing.
 */
export type TokenPrefix = 'aio' | 'agk' | 'rt' | 'inv' | 'evt' | 'prt';
export const SECRET_TOKEN_PATTERN = /\b(aio|agk|rt|inv|evt|prt)_[A-Za-z0-9_-]{16,}/g;

export function randomToken(prefix: TokenPrefix): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface AccessClaims {
  userId: string;
  organizationId: string;
  sessionId: string;
}

const ISSUER = 'aiops';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
const AUDIENCE = 'aiops-api';

/** Short-lived access tokens: HS256 JWTs naming the user, organization and session (jose). */
export class AccessTokens {
  constructor(
    private readonly secret: Uint8Array,
    readonly ttlSeconds: number,
  ) {}

  sign(claims: AccessClaims): Promise<string> {
    return new SignJWT({ org: claims.organizationId, sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.secret);
  }

  /**
   * The claims of a valid, unexpired token of ours; null for anything else: a token without `exp` (it
   * would never expire), or whose user, organization or session is not a UUID.
   */
  async verify(token: string): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
        typ: 'at+jwt',
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      const { sub, org, sid } = payload as { sub?: unknown; org?: unknown; sid?: unknown };
      if (!isUuid(sub) || !isUuid(org) || !isUuid(sid)) return null;
      return { userId: sub, organizationId: org, sessionId: sid };
    } catch {
      return null;
    }
  }
}
