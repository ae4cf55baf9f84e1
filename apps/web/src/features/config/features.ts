import { queryOptions, useQuery } from '@tanstack/react-query';
import { call, sdk } from '../../api/client.ts';
import type { OrganizationFeatures } from '../../api/types.ts';

/** The flags as they apply to the current organization (GET /organization/features). */
export const featuresQuery = queryOptions({
  queryKey: ['features'],
  queryFn: () => call(sdk.api.GET('/api/v1/organization/features')),
  staleTime: 30_000,
});

/** Which studio pages a flag turns off: hidden from the navigation while it is off. */
export const FLAG_PAGES: Record<string, string> = {
  'feature/workflows': '/workflows',
  'feature/marketplace': '/marketplace',
  'feature/conversations': '/chat',
};

/** The studio paths the current organization's flags hide, and whether the caller is a platform admin. */
export function useFeatureNav(): { hidden: ReadonlySet<string>; platformAdmin: boolean } {
  const q = useQuery(featuresQuery);
  const hidden = new Set<string>();
  for (const f of q.data?.flags ?? []) {
    const page = FLAG_PAGES[f.key];
    if (page && !f.enabled) hidden.add(page);
  }
  return { hidden, platformAdmin: q.data?.platformAdmin ?? false };
}

/** How a flag came to be what it is, in words. */
export const SOURCE_TEXT: Record<OrganizationFeatures['flags'][number]['source'], string> = {
  default: 'on by default',
  global: 'set for every organization',
  rollout: 'gradual rollout',
  'allow-list': 'this organization is allow-listed',
  operator: 'set for this organization by the platform operator',
  owner: 'turned off by an owner',
};
