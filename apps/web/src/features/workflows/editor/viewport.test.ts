import { describe, expect, it } from 'vitest';
import { legibleViewport } from './viewport.ts';

describe('the editor opens legible', () => {
  it('fits and centres a small workflow, no larger than 1:1', () => {
    const v = legibleViewport({ x: 0, y: 0, width: 200, height: 80 }, { width: 600, height: 400 }, 0.92);
    expect(v.zoom).toBe(1);
    expect(v.x).toBe(200);
    expect(v.y).toBe(160);
  });

  it('zooms out to fit, down to the legible zoom', () => {
    const v = legibleViewport({ x: 0, y: 0, width: 600, height: 100 }, { width: 600, height: 400 }, 0.5);
    expect(v.zoom).toBeCloseTo(552 / 600);
  });

  it('starts a workflow too wide for the view at its left edge, at the legible zoom', () => {
    const v = legibleViewport({ x: 100, y: 0, width: 1200, height: 100 }, { width: 600, height: 400 }, 0.92);
    expect(v.zoom).toBe(0.92);
    expect(v.x).toBeCloseTo(24 - 100 * 0.92);
    expect(v.y).toBeCloseTo((400 - 100 * 0.92) / 2);
  });
});
