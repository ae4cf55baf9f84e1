/** Where the editor opens a saved workflow: fitted, but never below a zoom at which steps are legible. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The viewport that fits `bounds` into a `view` of the given size, with the zoom held within
 * [minZoom, 1]. A workflow too large for the view at `minZoom` starts at its top-left step (where a run
 * starts), rather than centred with both ends cut off.
 */
export function legibleViewport(
  bounds: Rect,
  view: { width: number; height: number },
  minZoom: number,
  padding = 24,
): { x: number; y: number; zoom: number } {
  const room = {
    width: Math.max(1, view.width - 2 * padding),
    height: Math.max(1, view.height - 2 * padding),
  };
  const fit = Math.min(room.width / Math.max(1, bounds.width), room.height / Math.max(1, bounds.height));
  const zoom = Math.min(1, Math.max(minZoom, fit));
  const axis = (start: number, size: number, space: number) =>
    size * zoom <= space - 2 * padding ? (space - size * zoom) / 2 - start * zoom : padding - start * zoom;
  return {
    x: axis(bounds.x, bounds.width, view.width),
    y: axis(bounds.y, bounds.height, view.height),
    zoom,
  };
}
