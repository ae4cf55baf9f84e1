import { queryOptions, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect } from 'react';
import { ApiError, get, onSignedOut, post, rememberSession } from '../api/client.ts';
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

/** The session probe: GET /me, null when signed out (its 401 is the one expected failed request). */
export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: async (): Promise<Me | null> => {
    try {
      const me = await get<Me>('/me');
      rememberSession(true);
      return me;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return null;
      throw e;
    }
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
  await post('/auth/logout').catch(() => undefined);
  rememberSession(false);
  client.removeQueries({ predicate: (q) => q.queryKey[0] !== 'me' });
  client.setQueryData(['me'], null);
}

export async function switchOrg(client: ReturnType<typeof useQueryClient>, organizationId: string) {
  await post('/auth/switch-org', { organizationId, cookie: true });
  await client.resetQueries();
}
