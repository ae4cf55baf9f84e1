import { useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, navigate, usePath } from './router.tsx';
import { signOut, switchOrg, useMe } from './session.tsx';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/agents', label: 'Agents' },
  { to: '/workflows', label: 'Workflows' },
  { to: '/runs', label: 'Runs' },
  { to: '/settings/members', label: 'Members' },
  { to: '/settings/integrations', label: 'Integrations' },
  { to: '/settings/usage', label: 'Usage & budget' },
  { to: '/settings/api-keys', label: 'API keys' },
  { to: '/settings/audit', label: 'Audit log' },
  { to: '/settings/security', label: 'Security' },
];

export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const path = usePath().split('?')[0] ?? '/';
  const client = useQueryClient();
  const active = (to: string) => (to === '/' ? path === '/' : path.startsWith(to));
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">AI Ops Studio</div>
        <label className="org">
          Organization
          <select
            value={me.organization.id}
            onChange={(e) => {
              void switchOrg(client, e.target.value).then(() => navigate('/'));
            }}
          >
            {me.organizations.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name} ({o.role})
              </option>
            ))}
          </select>
        </label>
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              <Link to={n.to} aria-current={active(n.to) ? 'page' : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
        <div className="who">
          <span>{me.user?.email ?? me.apiKey?.name}</span>
          <button
            type="button"
            className="ghost"
            onClick={() => {
              void signOut(client).then(() => navigate('/login'));
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}
