/**
 * Contour lines of a function of two variables on a regular grid (marching squares), as polylines
 * ready for a vega-lite `line` mark. Vega-lite has no contour mark, and the report draws the level
 * sets of the toy's F1, F2 and F1 + F2 under the trajectories (the paper's Figure 1).
 * @module
 */

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

/**
 * Polylines of `f = level` for every level, traced on a `resolution × resolution` grid over `box`.
 * Each crossing point is linearly interpolated on a grid edge; segments of neighbouring cells share
 * those points exactly, so they are chained into maximal polylines (one SVG path each, instead of a
 * path per cell).
 */
export function contourLines(
  f: (x: number, y: number) => number,
  box: Box,
  levels: readonly number[],
  options: ContourOptions = {},
): ContourLine[] {
  const n = options.resolution ?? 61;
  if (!(n >= 2)) throw new Error(`contour resolution must be >= 2 (got ${n})`);
  const xs = Array.from({ length: n }, (_, i) => box.x0 + (box.x1 - box.x0) * i / (n - 1));
  const ys = Array.from({ length: n }, (_, j) => box.y0 + (box.y1 - box.y0) * j / (n - 1));
  const v = xs.map((x) => ys.map((y) => f(x, y)));
  const out: ContourLine[] = [];
  for (const level of levels) {
    // Edge keys: "h,i,j" joins (i,j)–(i+1,j); "v,i,j" joins (i,j)–(i,j+1).
    const point = new Map<string, [number, number]>();
    const crossing = (key: string, a: [number, number], b: [number, number]) => {
      if (!point.has(key)) {
        const fa = v[a[0]][a[1]], fb = v[b[0]][b[1]];
        const t = (level - fa) / (fb - fa);
        point.set(key, [
          xs[a[0]] + t * (xs[b[0]] - xs[a[0]]),
          ys[a[1]] + t * (ys[b[1]] - ys[a[1]]),
        ]);
      }
      return key;
    };
    const segments: [string, string][] = [];
    for (let i = 0; i < n - 1; i++) {
      for (let j = 0; j < n - 1; j++) {
        // Corners counter-clockwise from bottom-left; an edge is crossed when its ends straddle the level.
        const corners: [number, number][] = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
        const keys = [`h,${i},${j}`, `v,${i + 1},${j}`, `h,${i},${j + 1}`, `v,${i},${j}`];
        const crossed: string[] = [];
        for (let e = 0; e < 4; e++) {
          const a = corners[e], b = corners[(e + 1) % 4];
          if ((v[a[0]][a[1]] >= level) !== (v[b[0]][b[1]] >= level)) {
            crossed.push(crossing(keys[e], a, b));
          }
        }
        if (crossed.length === 2) segments.push([crossed[0], crossed[1]]);
        else if (crossed.length === 4) {
          // Saddle: the cell-centre value decides which corners the level line separates.
          const centre = (v[i][j] + v[i + 1][j] + v[i + 1][j + 1] + v[i][j + 1]) / 4;
          const bottomLeftAbove = v[i][j] >= level;
          if ((centre >= level) === bottomLeftAbove) {
            segments.push([crossed[0], crossed[1]], [crossed[2], crossed[3]]);
          } else segments.push([crossed[3], crossed[0]], [crossed[1], crossed[2]]);
        }
      }
    }
    for (const keys of chain(segments)) {
      out.push({ level, points: keys.map((k) => point.get(k)!) });
    }
  }
  return out;
}

/** Joins segments that share end points into maximal chains, in a deterministic order. */
function chain(segments: readonly [string, string][]): string[][] {
  const adjacent = new Map<string, number[]>();
  segments.forEach(([a, b], s) => {
    for (const k of [a, b]) {
      const list = adjacent.get(k);
      if (list) list.push(s);
      else adjacent.set(k, [s]);
    }
  });
  const used = new Array<boolean>(segments.length).fill(false);
  const walk = (start: string): string[] => {
    const keys = [start];
    let at = start;
    for (;;) {
      const next = (adjacent.get(at) ?? []).find((s) => !used[s]);
      if (next === undefined) return keys;
      used[next] = true;
      const [a, b] = segments[next];
      at = a === at ? b : a;
      keys.push(at);
    }
  };
  const chains: string[][] = [];
  // Open chains first, started from their free ends (points on one segment only), then loops.
  for (const [key, list] of adjacent) {
    if (list.length === 1 && !used[list[0]]) chains.push(walk(key));
  }
  segments.forEach(([a], s) => {
    if (!used[s]) chains.push(walk(a));
  });
  return chains;
}
