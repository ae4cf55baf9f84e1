import { lazy, type ReactNode, Suspense, useEffect } from 'react';
import { AcceptInvitePage } from '../features/auth/AcceptInvitePage.tsx';
import { LoginPage, SignupPage } from '../features/auth/AuthPages.tsx';
import { ErrorText } from '../ui/kit.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { Layout } from './Layout.tsx';
import { match, navigate, usePath } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';

// Pages load on demand: the graph editor and the charts stay out of the first download.
const Overview = lazy(() => import('../features/overview/OverviewPage.tsx'));
const Agents = lazy(() => import('../features/agents/AgentsPage.tsx'));
const AgentEdit = lazy(() => import('../features/agents/AgentEditPage.tsx'));
const Workflows = lazy(() => import('../features/workflows/WorkflowsPage.tsx'));
const Editor = lazy(() => import('../features/workflows/editor/EditorPage.tsx'));
const Runs = lazy(() => import('../features/runs/RunsPage.tsx'));
const RunDetail = lazy(() => import('../features/runs/RunDetailPage.tsx'));
const Members = lazy(() => import('../features/settings/MembersPage.tsx'));
const ApiKeys = lazy(() => import('../features/settings/ApiKeysPage.tsx'));
const Audit = lazy(() => import('../features/settings/AuditPage.tsx'));
const Security = lazy(() => import('../features/settings/SecurityPage.tsx'));
const Integrations = lazy(() => import('../features/settings/integrations/IntegrationsPage.tsx'));
const Usage = lazy(() => import('../features/settings/usage/UsagePage.tsx'));

type Params = Record<string, string>;
const ROUTES: [string, (p: Params) => ReactNode][] = [
  ['/', () => <Overview />],
  ['/agents', () => <Agents />],
  ['/agents/:id', (p) => <AgentEdit key={p.id} id={p.id!} />],
  ['/workflows', () => <Workflows />],
  ['/workflows/:id', (p) => <Editor key={p.id} id={p.id!} />],
  ['/runs', () => <Runs />],
  ['/runs/:id', (p) => <RunDetail key={p.id} id={p.id!} />],
  ['/settings/members', () => <Members />],
  ['/settings/api-keys', () => <ApiKeys />],
  ['/settings/audit', () => <Audit />],
  ['/settings/security', () => <Security />],
  ['/settings/integrations', () => <Integrations />],
  ['/settings/usage', () => <Usage />],
];

function Page({ path }: { path: string }) {
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, path);
    if (params) return render(params);
  }
  return <p>No page at {path}.</p>;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App() {
  const path = usePath();
  const pathname = path.split('?')[0] ?? '/';
  const session = useSession();
  if (session.isPending) return <p className="loading">Loading…</p>;
  if (session.error) return <ErrorText error={session.error} />;
  const me = session.data;
  if (pathname === '/signup') return <SignupPage />;
  if (pathname === '/accept-invite') return <AcceptInvitePage signedIn={!!me} />;
  if (!me) {
    if (pathname !== '/login') return <Redirect to={`/login?next=${encodeURIComponent(path)}`} />;
    return <LoginPage />;
  }
  if (pathname === '/login') return <Redirect to="/" />;
  return (
    <SessionProvider me={me}>
      <Layout>
        <ErrorBoundary key={pathname}>
          <Suspense fallback={<p className="loading">Loading…</p>}>
            <Page path={pathname} />
          </Suspense>
        </ErrorBoundary>
      </Layout>
    </SessionProvider>
  );
}
