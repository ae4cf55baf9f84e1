import { Link } from '@tanstack/react-router';

interface Origin {
  agentType?: { id?: string; version?: string };
  template?: { id?: string; name?: string; version?: number; listingId?: string };
}

/** Where an agent came from: a catalog type, or a template (whose limits hold at every run). */
export function AgentOrigin({ metadata }: { metadata: Record<string, unknown> }) {
  const m = metadata as Origin;
  if (m.template?.name)
    return (
      <p className="mb-3 text-sm text-muted-foreground" data-testid="agent-origin">
        Made from template <strong>{m.template.name}</strong> (version {m.template.version})
        {m.template.listingId && (
          <>
            {' '}
            bought on the{' '}
            <Link to="/marketplace/$id" params={{ id: m.template.listingId }}>
              marketplace
            </Link>
          </>
        )}
        . The template's allowed providers and cost limit per request apply at every run, whatever is set
        here.
      </p>
    );
  if (m.agentType?.id)
    return (
      <p className="mb-3 text-sm text-muted-foreground" data-testid="agent-origin">
        Made from the catalog type <code>{m.agentType.id}</code> (version {m.agentType.version}).
      </p>
    );
  return null;
}
