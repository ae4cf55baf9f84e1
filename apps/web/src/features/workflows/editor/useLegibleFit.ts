import { useNodesInitialized, useReactFlow } from '@xyflow/react';
import { type RefObject, useEffect, useRef, useState } from 'react';
import { LEGIBLE_ZOOM } from './StepNodeView.tsx';
import { legibleViewport } from './viewport.ts';

/**
 * Fits the canvas once, when its steps are measured, at a legible zoom (see viewport.ts). Returns the
 * `onInit` to pass to <ReactFlow> (the viewport can be set only after it). Call inside a ReactFlowProvider.
 */
export function useLegibleFit(canvas: RefObject<HTMLElement | null>, enabled: boolean): () => void {
  const flow = useReactFlow();
  const measured = useNodesInitialized();
  const fitted = useRef(false);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const box = canvas.current?.getBoundingClientRect();
    if (fitted.current || !ready || !measured || !box || !enabled) return;
    fitted.current = true;
    void flow.setViewport(legibleViewport(flow.getNodesBounds(flow.getNodes()), box, LEGIBLE_ZOOM));
  }, [ready, measured, flow, enabled, canvas]);
  return () => setReady(true);
}
