import type { RunEvent } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { clockTime } from './clock.ts';

/** The run's log: every event of its stream (run and step transitions) with its time and details. */
export function EventLog({ events, onSelect }: { events: RunEvent[]; onSelect: (nodeId: string) => void }) {
  if (events.length === 0) return <p className="text-xs font-normal text-muted-foreground">No events yet.</p>;
  return (
    <Table data-testid="event-log">
      <thead>
        <tr>
          <Th>Time</Th>
          <Th>Event</Th>
          <Th>Step</Th>
          <Th>Details</Th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.id}>
            <Td className="font-mono text-xs whitespace-nowrap tabular-nums">
              {e.at ? clockTime(e.at) : ''}
            </Td>
            <Td>
              <code>{e.type}</code>
            </Td>
            <Td>
              {e.nodeId && (
                <Button type="button" variant="link" onClick={() => onSelect(e.nodeId!)}>
                  {e.nodeId}
                </Button>
              )}
            </Td>
            <Td className="w-full max-w-0 text-xs">
              {Object.keys(e.data).length > 0 && (
                <code className="block break-all">{JSON.stringify(e.data).slice(0, 300)}</code>
              )}
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
