import type { RunEvent } from '../../api/types.ts';

/** The run's log: every event of its stream (run and step transitions) with its time and details. */
export function EventLog({ events, onSelect }: { events: RunEvent[]; onSelect: (nodeId: string) => void }) {
  if (events.length === 0) return <p className="hint">No events yet.</p>;
  return (
    <table className="events" data-testid="event-log">
      <thead>
        <tr>
          <th>Time</th>
          <th>Event</th>
          <th>Step</th>
          <th>Details</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id}>
            <td>
              {e.at
                ? new Date(e.at).toLocaleTimeString(undefined, { hour12: false, fractionalSecondDigits: 3 })
                : ''}
            </td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>
              {e.nodeId && (
                <button type="button" className="link" onClick={() => onSelect(e.nodeId!)}>
                  {e.nodeId}
                </button>
              )}
            </td>
            <td className="small-text">
              {Object.keys(e.data).length > 0 && <code>{JSON.stringify(e.data).slice(0, 300)}</code>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
