import { useReactFlow } from '@xyflow/react';
import { type RefObject, useEffect, useRef, useState } from 'react';
import { LEGIBLE_ZOOM } from './StepNodeView.tsx';
import { legibleViewport } from './viewport.ts';

/**
 * Fits the canvas once, as soon as its steps are measured, at a legible zoom (see viewport.ts). Returns
 * the `onInit` to pass to <ReactFlow> (the viewport can be set only after it). Measurement is read from
 * React Flow's internal nodes, so it works for read-only canvases without `onNodesChange` (the run page).
 * Call inside a ReactFlowProvider.
 */
export function useLegibleFit(canvas: RefObject<HTMLElement | null>, enabled: boolean): () => void {
  const flow = useReactFlow();
  const fitted = useRef(false);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    if (fitted.current || !ready || !enabled) return;
    let frames = 0;
    let handle = 0;
    const attempt = () => {
      const box = canvas.current?.getBoundingClientRect();
      const ids = flow.getNodes().map((n) => n.id);
      const measured = ids.length > 0 && ids.every((id) => flow.getInternalNode(id)?.measured.width);
      if (box && measured) {
        fitted.current = true;
        void flow.setViewport(legibleViewport(flow.getNodesBounds(ids), box, LEGIBLE_ZOOM));
      } else if (frames++ < 120) handle = requestAnimationFrame(attempt);
    };
    handle = requestAnimationFrame(attempt);
    return () => cancelAnimationFrame(handle);
  }, [ready, enabled, flow, canvas]);
  return () => setReady(true);
}
