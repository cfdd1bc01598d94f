/**
 * Contour lines of a function of two variables, as polylines ready for a vega-lite `line` mark.
 * Vega-lite has no contour mark, and the report draws the level sets of the toy's F1, F2 and
 * F1 + F2 under the trajectories (the paper's Figure 1). The marching squares are d3-contour's (the
 * same code vega's isocontour transform runs); this module samples f on a grid, maps d3's grid
 * coordinates back to the plane and cuts away the edges d3 adds along the grid's border (it closes
 * every polygon there), so only the level lines remain.
 * @module
 */
import { contours } from "d3-contour";

/** A rectangular region of the plane. */
export interface Box {
  /** Smallest x. */
  readonly x0: number;
  /** Largest x. */
  readonly x1: number;
  /** Smallest y. */
  readonly y0: number;
  /** Largest y. */
  readonly y1: number;
}

/** One contour polyline: the level and its vertices in order. */
export interface ContourLine {
  /** Function value on the line. */
  readonly level: number;
  /** Vertices (x, y); closed lines repeat their first vertex at the end. */
  readonly points: readonly (readonly [number, number])[];
}

/** Options of {@linkcode contourLines}. */
export interface ContourOptions {
  /** Grid points per axis (default 61). */
  readonly resolution?: number;
}

type Point = [number, number];

/**
 * Polylines of `f = level` for every level, traced on a `resolution × resolution` grid over `box`
 * (crossings linearly interpolated along grid edges). A level line that leaves the box is an open
 * polyline ending on the box; one inside it is closed.
 */
export function contourLines(
  f: (x: number, y: number) => number,
  box: Box,
  levels: readonly number[],
  options: ContourOptions = {},
): ContourLine[] {
  const n = options.resolution ?? 61;
  if (!(n >= 2)) throw new Error(`contour resolution must be >= 2 (got ${n})`);
  if (levels.length === 0) return [];
  const dx = (box.x1 - box.x0) / (n - 1), dy = (box.y1 - box.y0) / (n - 1);
  const values = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) values[i + j * n] = f(box.x0 + i * dx, box.y0 + j * dy);
  }
  // d3 puts sample (i, j) at (i + ½, j + ½) and treats everything outside the grid as −∞, so
  // vertices with a coordinate at 0 or n lie on the border it invents.
  const onBorder = ([a, b]: readonly number[]) => a <= 0 || a >= n || b <= 0 || b >= n;
  const toPlane = ([a, b]: readonly number[]): Point => [
    box.x0 + (a - 0.5) * dx,
    box.y0 + (b - 0.5) * dy,
  ];
  const out: ContourLine[] = [];
  const generator = contours().size([n, n]).thresholds([...levels]);
  for (const level of levels) {
    const geometry = generator.contour(Array.from(values), level);
    for (const polygon of geometry.coordinates) {
      for (const ring of polygon) {
        for (const piece of splitAtBorder(ring, onBorder)) {
          out.push({ level, points: piece.map(toPlane) });
        }
      }
    }
  }
  return out;
}

/**
 * The parts of a closed ring (last vertex = first) between its border vertices, each an open
 * polyline of at least two vertices; a ring with no border vertex is returned whole.
 */
function splitAtBorder(
  ring: readonly (readonly number[])[],
  onBorder: (p: readonly number[]) => boolean,
): (readonly number[])[][] {
  const k = ring.findIndex(onBorder);
  if (k < 0) return [[...ring]];
  const rotated = [...ring.slice(k, -1), ...ring.slice(0, k + 1)];
  const pieces: (readonly number[])[][] = [];
  let current: (readonly number[])[] = [];
  for (const p of rotated) {
    if (onBorder(p)) {
      if (current.length >= 2) pieces.push(current);
      current = [];
    } else current.push(p);
  }
  if (current.length >= 2) pieces.push(current);
  return pieces;
}
