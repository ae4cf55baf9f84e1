import type { DragEvent } from 'react';
import type { NodeType } from '../../../api/types.ts';
import { Button } from '../../../ui/button.tsx';

export const DRAG_TYPE = 'application/aiops-node';

const ITEMS: { type: NodeType; label: string; hint: string }[] = [
  { type: 'agent', label: 'Agent', hint: 'a model call with a prompt' },
  { type: 'tool', label: 'Tool', hint: 'HTTP request or JSON transform' },
  { type: 'approval', label: 'Approval', hint: 'waits for a person to approve' },
  { type: 'subworkflow', label: 'Sub-workflow', hint: 'runs another workflow' },
  { type: 'output', label: 'Output', hint: 'the run’s result' },
  { type: 'delay', label: 'Delay', hint: 'waits a while' },
  { type: 'code', label: 'Code', hint: 'JavaScript or TypeScript in a sandbox' },
];

/** Drag a step onto the canvas, or press it (keyboard) to add it in the middle. */
export function Palette({ onAdd }: { onAdd: (type: NodeType) => void }) {
  const start = (e: DragEvent, type: NodeType) => {
    e.dataTransfer.setData(DRAG_TYPE, type);
    e.dataTransfer.effectAllowed = 'move';
  };
  return (
    <aside className="flex flex-col gap-1.5 overflow-auto" aria-label="Add a step">
      <h2>Steps</h2>
      {ITEMS.map((i) => (
        <Button
          type="button"
          variant="outline"
          className="h-auto cursor-grab flex-col items-start gap-0 py-1.5 text-left whitespace-normal"
          key={i.type}
          draggable
          data-testid={`palette-${i.type}`}
          onDragStart={(e) => start(e, i.type)}
          onClick={() => onAdd(i.type)}
          title={`Drag onto the canvas, or press to add: ${i.hint}`}
        >
          <strong>{i.label}</strong>
          <span className="text-[11px] font-normal text-muted-foreground max-[1439px]:hidden">{i.hint}</span>
        </Button>
      ))}
      <p className="text-xs font-normal text-muted-foreground">
        Connect steps by dragging from a right handle to a left handle.
      </p>
    </aside>
  );
}
