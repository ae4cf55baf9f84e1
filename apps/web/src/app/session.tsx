import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect } from 'react';
import { call, onSignedOut, sdk } from '../api/client.ts';
import type { Me, Permission } from '../api/types.ts';

const MeContext = createContext<Me | null>(null);

/** The signed-in caller (GET /me); null while signed out. */
export function useMe(): Me {
  const me = useContext(MeContext);
  if (!me) throw new Error('useMe outside a session');
  return me;
}

export function useCan(permission: Permission): boolean {
  return useMe().permissions.includes(permission);
}

/**
 * The session probe: GET /auth/session, null when signed out. It answers 200 either way (a visitor causes
 * no failed request) and renews an expired access cookie from the refresh cookie itself.
 */
export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: async (): Promise<Me | null> => {
    const session = await call(sdk.api.GET('/api/v1/auth/session'));
    if (!session.authenticated) return null;
    const { authenticated: _a, ...me } = session;
    return me;
  },
  staleTime: 60_000,
  retry: false,
});

export function useSession() {
  const client = useQueryClient();
  const q = useQuery(meQuery);
  useEffect(
    () =>
      onSignedOut(() => {
        client.setQueryData(['me'], null);
      }),
    [client],
  );
  return q;
}

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }) {
  return <MeContext.Provider value={me}>{children}</MeContext.Provider>;
}

export async function signOut(client: ReturnType<typeof useQueryClient>) {
  await call(sdk.api.POST('/api/v1/auth/logout')).catch(() => undefined);
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
  client.setQueryData(['me'], null);
}

/**
 * Moves the session to another organization. Every cached query is reset at once (no page shows the old
 * organization's data), then `open` (the home page, say) is opened before the pages' data has reloaded:
 * opening it after the reload would take the person away from a page they opened in the meantime.
 */
export async function switchOrg(
  client: ReturnType<typeof useQueryClient>,
  organizationId: string,
  open?: () => Promise<void>,
) {
  await call(sdk.api.POST('/api/v1/auth/switch-org', { body: { organizationId, cookie: true } }));
  await resetThenOpen(client, open);
}

/**
 * After the session changed (another organization, a new account): resets every cached query (it is
 * cleared at once, and the active ones refetch), opens the next page while they reload, then waits for them.
 */
export async function resetThenOpen(client: ReturnType<typeof useQueryClient>, open?: () => Promise<void>) {
  const reloaded = client.resetQueries();
  await open?.();
  await reloaded;
}
