import { BaseEdge, EdgeLabelRenderer, type EdgeProps, getBezierPath } from '@xyflow/react';

/**
 * A connection, with its condition as an HTML label that wraps within the gap between the two steps
 * (an SVG label does not wrap: long conditions ran over the handles). Clicks pass through the label to
 * the connection, which selects it.
 */
export function ConditionEdgeView(props: EdgeProps) {
  const { id, label, markerEnd, style, selected, data } = props;
  const condition = (data as { condition?: string } | undefined)?.condition;
  const [path, x, y] = getBezierPath(props);
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={24} />
      {label && (
        <EdgeLabelRenderer>
          <div
            className={`edge-label pointer-events-none absolute max-w-[104px] rounded border bg-card px-1 py-px text-center font-mono text-[12px] leading-tight [overflow-wrap:anywhere] text-card-foreground ${selected ? 'border-primary' : ''}`}
            style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` }}
            data-testid={`edge-label-${id}`}
            title={condition}
          >
            {breakable(String(label))}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

/** Line-break opportunities after dots, so `nodes.classify.output` wraps between names, not inside one. */
function breakable(text: string) {
  return text.split('.').map((part, i, all) => (
    // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one label, in order
    <span key={i}>
      {part}
      {i < all.length - 1 && (
        <>
          .<wbr />
        </>
      )}
    </span>
  ));
}

export const edgeTypes = { default: ConditionEdgeView };
