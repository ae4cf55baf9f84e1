import { useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { useFeatureNav } from '../features/config/features.ts';
import { Button } from '../ui/button.tsx';
import { ThemeToggle } from '../ui/theme.tsx';
import { signOut, switchOrg, useMe } from './session.tsx';

/** The navigation in groups, in the order a user meets them: build, run and watch, evaluate, know, settle. */
const NAV = [
  {
    group: 'Build',
    links: [
      { to: '/', label: 'Overview' },
      { to: '/workflows', label: 'Workflows' },
      { to: '/agents', label: 'Agents' },
      { to: '/catalog', label: 'Agent catalog' },
      { to: '/marketplace', label: 'Marketplace' },
      { to: '/templates', label: 'My templates' },
    ],
  },
  {
    group: 'Run and watch',
    links: [
      { to: '/runs', label: 'Runs' },
      { to: '/traces', label: 'Traces' },
      { to: '/events', label: 'Events' },
      { to: '/external-agents', label: 'External agents' },
      { to: '/alerts', label: 'Alerts' },
    ],
  },
  {
    group: 'Evaluate',
    links: [
      { to: '/evaluators', label: 'Evaluators' },
      { to: '/datasets', label: 'Datasets' },
      { to: '/experiments', label: 'Experiments' },
    ],
  },
  {
    group: 'Knowledge',
    links: [
      { to: '/chat', label: 'Chat' },
      { to: '/glossary', label: 'Glossary' },
      { to: '/insights', label: 'Insights' },
    ],
  },
  {
    group: 'Settings',
    links: [
      { to: '/settings/members', label: 'Members' },
      { to: '/settings/integrations', label: 'Integrations' },
      { to: '/settings/api-keys', label: 'API keys' },
      { to: '/settings/usage', label: 'Usage & budget' },
      { to: '/settings/billing', label: 'Billing' },
      { to: '/settings/event-sinks', label: 'Event sinks' },
      { to: '/settings/outbound-sync', label: 'Outbound sync' },
      { to: '/settings/retention', label: 'Data retention' },
      { to: '/settings/features', label: 'Features' },
      { to: '/settings/transfer', label: 'Export & import' },
      { to: '/settings/audit', label: 'Audit log' },
      { to: '/settings/security', label: 'Security' },
    ],
  },
] as const;

/** Shown to platform admins only (GET /organization/features says who is one). */
const ADMIN_NAV = { group: 'Admin', links: [{ to: '/admin/config', label: 'Configuration' }] } as const;

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const client = useQueryClient();
  const navigate = useNavigate();
  // Pages of features a flag turns off for this organization are not offered.
  const { hidden, platformAdmin } = useFeatureNav();
  const sections = [
    ...NAV.map((s) => ({ group: s.group, links: s.links.filter((l) => !hidden.has(l.to)) })),
    ...(platformAdmin ? [ADMIN_NAV] : []),
  ];
  return (
    <div className="grid min-h-screen grid-cols-[220px_minmax(0,1fr)]">
      <div className="bg-sidebar">
        <nav
          className="sticky top-0 flex h-screen flex-col gap-3 overflow-y-auto bg-sidebar px-2.5 py-3.5 text-sidebar-foreground"
          aria-label="Main"
        >
          <div className="px-1.5 text-base font-bold text-white">AI Ops Studio</div>
          <label className="flex flex-col gap-1 px-1.5 text-xs text-sidebar-foreground/80">
            Organization
            <select
              className="w-full rounded-md border border-white/20 bg-sidebar-accent px-2 py-1.5 text-sm text-white"
              title={me.organizations.find((o) => o.id === me.organization.id)?.name}
              value={me.organization.id}
              onChange={(e) => {
                void switchOrg(client, e.target.value, () => navigate({ to: '/' }));
              }}
            >
              {me.organizations.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name} ({o.role})
                </option>
              ))}
            </select>
          </label>
          {sections.map((section) => {
            const id = `nav-${section.group.toLowerCase().replaceAll(' ', '-')}`;
            return (
              <div key={section.group} className="flex flex-col gap-0.5">
                <div
                  id={id}
                  className="px-2 pt-1 text-[0.7rem] font-semibold tracking-wide text-sidebar-foreground/60 uppercase"
                >
                  {section.group}
                </div>
                <ul aria-labelledby={id} className="flex flex-col gap-0.5">
                  {section.links.map((n) => (
                    <li key={n.to}>
                      <Link
                        to={n.to}
                        activeOptions={{ exact: n.to === '/' }}
                        className="block rounded-md px-2 py-1 text-sidebar-foreground no-underline hover:bg-sidebar-accent hover:text-white hover:no-underline aria-[current=page]:bg-sidebar-accent aria-[current=page]:text-white"
                      >
                        {n.label}
                      </Link>
                    </li>
                  ))}
                </ul>
              </div>
            );
          })}
          <div className="mt-auto flex flex-col gap-1.5 px-1.5 text-xs break-all">
            <ThemeToggle className="justify-start text-sidebar-foreground hover:bg-sidebar-accent hover:text-white" />
            <span>{me.user?.email ?? me.apiKey?.name}</span>
            <Button
              variant="outline"
              size="sm"
              className="border-white/25 bg-transparent text-sidebar-foreground hover:bg-sidebar-accent hover:text-white"
              onClick={() => {
                void signOut(client).then(() => navigate({ to: '/login', search: {} }));
              }}
            >
              Sign out
            </Button>
          </div>
        </nav>
      </div>
      <main className="min-w-0 px-5 py-5">{children}</main>
    </div>
  );
}
