import type { QueryClient } from '@tanstack/react-query';
import {
  createRootRouteWithContext,
  createRoute,
  createRouter,
  Outlet,
  redirect,
  useRouter,
  useRouterState,
} from '@tanstack/react-router';
import { lazy, Suspense, useEffect } from 'react';
import { AcceptInvitePage } from '../features/auth/AcceptInvitePage.tsx';
import { LoginPage, SignupPage } from '../features/auth/AuthPages.tsx';
import { ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from '../features/auth/RecoveryPages.tsx';
import type { TracesSearch } from '../features/traces/TracesPage.tsx';
import { ErrorText, Loading } from '../ui/page.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { Layout } from './Layout.tsx';
import { meQuery, SessionProvider, useSession } from './session.tsx';

/**
 * The studio's pages as a typed TanStack Router tree (code-based): links and navigations are checked
 * against these paths, params and search params at compile time. Pages load on demand, so the graph
 * editor and the charts stay out of the first download.
 */
const Overview = lazy(() => import('../features/overview/OverviewPage.tsx'));
const Agents = lazy(() => import('../features/agents/AgentsPage.tsx'));
const AgentEdit = lazy(() => import('../features/agents/AgentEditPage.tsx'));
const Workflows = lazy(() => import('../features/workflows/WorkflowsPage.tsx'));
const Editor = lazy(() => import('../features/workflows/editor/EditorPage.tsx'));
const Runs = lazy(() => import('../features/runs/RunsPage.tsx'));
const RunDetail = lazy(() => import('../features/runs/RunDetailPage.tsx'));
const Traces = lazy(() => import('../features/traces/TracesPage.tsx'));
const TraceDetail = lazy(() => import('../features/traces/TracePage.tsx'));
const Members = lazy(() => import('../features/settings/MembersPage.tsx'));
const ApiKeys = lazy(() => import('../features/settings/ApiKeysPage.tsx'));
const Audit = lazy(() => import('../features/settings/AuditPage.tsx'));
const Security = lazy(() => import('../features/settings/SecurityPage.tsx'));
const Integrations = lazy(() => import('../features/settings/integrations/IntegrationsPage.tsx'));
const Usage = lazy(() => import('../features/settings/usage/UsagePage.tsx'));
const Chat = lazy(() => import('../features/knowledge/ChatPage.tsx'));
const Glossary = lazy(() => import('../features/knowledge/GlossaryPage.tsx'));
const Insights = lazy(() => import('../features/knowledge/InsightsPage.tsx'));
const Billing = lazy(() => import('../features/billing/BillingPage.tsx'));
const Catalog = lazy(() => import('../features/marketplace/CatalogPage.tsx'));
const Marketplace = lazy(() => import('../features/marketplace/MarketplacePage.tsx'));
const ListingPage = lazy(() => import('../features/marketplace/ListingPage.tsx'));
const MyTemplates = lazy(() => import('../features/marketplace/MyTemplatesPage.tsx'));
const Retention = lazy(() => import('../features/settings/RetentionPage.tsx'));
const Features = lazy(() => import('../features/config/FeaturesPage.tsx'));
const AdminConfig = lazy(() => import('../features/config/AdminConfigPage.tsx'));
const Transfer = lazy(() => import('../features/settings/TransferPage.tsx'));
const Events = lazy(() => import('../features/triggers/EventsPage.tsx'));
const EventSinks = lazy(() => import('../features/triggers/EventSinksPage.tsx'));
const SyncTargets = lazy(() => import('../features/sync/SyncTargetsPage.tsx'));
const Evaluators = lazy(() => import('../features/evaluations/EvaluatorsPage.tsx'));
const Datasets = lazy(() => import('../features/datasets/DatasetsPage.tsx'));
const Experiments = lazy(() => import('../features/experiments/ExperimentsPage.tsx'));
const Alerts = lazy(() => import('../features/alerts/AlertsPage.tsx'));
const ExternalAgents = lazy(() => import('../features/external-agents/ExternalAgentsPage.tsx'));

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** The signed-out pages (the links of mails among them): no sidebar; the session, if any, is known. */
function Root() {
  const session = useSession();
  if (session.isPending) return <Loading />;
  if (session.error) return <ErrorText error={session.error} />;
  return session.data ? (
    <SessionProvider me={session.data}>
      <Outlet />
    </SessionProvider>
  ) : (
    <Outlet />
  );
}

/** Every other page: signed in, inside the layout. Signing out (or a lost session) leads to sign-in. */
function SignedIn() {
  const me = useSession().data;
  const router = useRouter();
  const pathname = useRouterState({ select: (s) => s.resolvedLocation?.pathname });
  // The session ended on this page: the route's beforeLoad runs again and sends the visitor to sign-in.
  useEffect(() => {
    if (!me) void router.invalidate();
  }, [me, router]);
  if (!me) return <Loading />;
  return (
    <SessionProvider me={me}>
      <Layout>
        <ErrorBoundary key={pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </Layout>
    </SessionProvider>
  );
}

const rootRoute = createRootRouteWithContext<{ queryClient: QueryClient }>()({
  component: Root,
  notFoundComponent: () => <p className="p-8">No page at this address.</p>,
});
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: 'app',
  // Decided before any page of the app renders (or loads its code): a visitor goes to sign-in.
  beforeLoad: async ({ context, location }) => {
    const me = await context.queryClient.ensureQueryData(meQuery);
    if (!me) throw redirect({ to: '/login', search: { next: location.href }, replace: true });
  },
  component: SignedIn,
});
const page = <P extends string>(path: P, component: () => React.ReactNode) =>
  createRoute({ getParentRoute: () => appRoute, path, component });

export const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/login',
  validateSearch: (s: Record<string, unknown>): { next?: string } => ({ next: str(s.next) }),
  beforeLoad: async ({ context }) => {
    if (await context.queryClient.ensureQueryData(meQuery)) throw redirect({ to: '/', replace: true });
  },
  component: LoginPage,
});
const tokenSearch = (s: Record<string, unknown>): { token?: string } => ({ token: str(s.token) });
export const acceptInviteRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/accept-invite',
  validateSearch: tokenSearch,
  component: AcceptInvitePage,
});
export const resetPasswordRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reset-password',
  validateSearch: tokenSearch,
  component: ResetPasswordPage,
});
export const verifyEmailRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/verify-email',
  validateSearch: tokenSearch,
  component: VerifyEmailPage,
});
export const agentRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/agents/$id',
  component: function AgentRoute() {
    const { id } = agentRoute.useParams();
    return <AgentEdit key={id} id={id} />;
  },
});
export const workflowRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/workflows/$id',
  component: function WorkflowRoute() {
    const { id } = workflowRoute.useParams();
    return <Editor key={id} id={id} />;
  },
});
export interface RunsSearch {
  workflowId?: string;
  status?: string;
  since?: string;
  /** Evaluation filters: `passed` / `failed`, a minimum and maximum score. */
  scored?: string;
  scoreMin?: string;
  scoreMax?: string;
}
export const runsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/runs',
  validateSearch: (s: Record<string, unknown>): RunsSearch => ({
    workflowId: str(s.workflowId),
    status: str(s.status),
    since: str(s.since),
    scored: str(s.scored),
    scoreMin: str(s.scoreMin),
    scoreMax: str(s.scoreMax),
  }),
  component: () => <Runs />,
});
export const runRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/runs/$id',
  component: function RunRoute() {
    const { id } = runRoute.useParams();
    return <RunDetail key={id} id={id} />;
  },
});
export const tracesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/traces',
  validateSearch: (s: Record<string, unknown>): TracesSearch => ({
    source: str(s.source),
    name: str(s.name),
    status: str(s.status),
    model: str(s.model),
    minCost: str(s.minCost),
    minDurationMs: str(s.minDurationMs),
    tag: str(s.tag),
    q: str(s.q),
  }),
  component: () => <Traces />,
});
export const traceRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/traces/$traceId',
  component: function TraceRoute() {
    const { traceId } = traceRoute.useParams();
    return <TraceDetail key={traceId} traceId={traceId} />;
  },
});

export const listingRoute = createRoute({
  getParentRoute: () => appRoute,
  path: '/marketplace/$id',
  component: function ListingRoute() {
    const { id } = listingRoute.useParams();
    return <ListingPage key={id} id={id} />;
  },
});

const routeTree = rootRoute.addChildren([
  loginRoute,
  createRoute({ getParentRoute: () => rootRoute, path: '/signup', component: SignupPage }),
  createRoute({ getParentRoute: () => rootRoute, path: '/forgot-password', component: ForgotPasswordPage }),
  acceptInviteRoute,
  resetPasswordRoute,
  verifyEmailRoute,
  appRoute.addChildren([
    page('/', () => <Overview />),
    page('/agents', () => <Agents />),
    page('/external-agents', () => <ExternalAgents />),
    page('/alerts', () => <Alerts />),
    agentRoute,
    page('/workflows', () => <Workflows />),
    workflowRoute,
    runsRoute,
    runRoute,
    tracesRoute,
    traceRoute,
    page('/settings/members', () => <Members />),
    page('/settings/api-keys', () => <ApiKeys />),
    page('/settings/audit', () => <Audit />),
    page('/settings/security', () => <Security />),
    page('/settings/integrations', () => <Integrations />),
    page('/settings/usage', () => <Usage />),
    page('/chat', () => <Chat />),
    page('/glossary', () => <Glossary />),
    page('/insights', () => <Insights />),
    page('/settings/billing', () => <Billing />),
    page('/catalog', () => <Catalog />),
    page('/marketplace', () => <Marketplace />),
    listingRoute,
    page('/templates', () => <MyTemplates />),
    page('/settings/retention', () => <Retention />),
    page('/settings/features', () => <Features />),
    page('/admin/config', () => <AdminConfig />),
    page('/settings/transfer', () => <Transfer />),
    page('/events', () => <Events />),
    page('/settings/event-sinks', () => <EventSinks />),
    page('/settings/outbound-sync', () => <SyncTargets />),
    page('/evaluators', () => <Evaluators />),
    page('/datasets', () => <Datasets />),
    page('/experiments', () => <Experiments />),
  ]),
]);

export function createStudioRouter(queryClient: QueryClient) {
  return createRouter({
    routeTree,
    context: { queryClient },
    defaultPreload: false,
    scrollRestoration: true,
    defaultPendingComponent: Loading,
  });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createStudioRouter>;
  }
}
