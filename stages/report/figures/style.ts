/**
 * What every figure shares: sizes that fit the report's column, the look, axes (symlog steps, padded
 * linear and log domains), the run encoding (a distinct colour per swept setting, seeds by stroke
 * dash) and loops over large arrays (never spread into arguments: a 10 000-run sweep has millions of
 * values).
 * @module
 */
import type { RunInfo } from "../tables.ts";

/** Width of one panel; three panels and a legend fit the report's column (1100 px). */
export const WIDTH = 230;
/** Height of one panel. */
export const HEIGHT = 160;
/** Panels per row in a grid of panels. */
export const COLUMNS = 3;
/** Lowest value drawn on a log axis, relative to the largest. */
export const FLOOR = 1e-12;
/** Runs drawn at most in one figure; a larger sweep draws an evenly spaced subset. */
export const MAX_DRAWN_RUNS = 60;
/** Colour legend entries at most; beyond, colour is a sequential scale of the swept value. */
export const MAX_COLORS = 24;

/** Shared look; fonts are left generic since the SVG is rendered without text metrics. */
export const CONFIG = {
  // Per-mark ARIA descriptions would list every data point in the SVG and multiply its size.
  aria: false,
  background: "white",
  font: "Helvetica, Arial, sans-serif",
  view: { stroke: "#bbb" },
  axis: { gridColor: "#eee", labelFontSize: 10, titleFontSize: 11, labelOverlap: true },
  legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 240 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  title: { fontSize: 13, anchor: "start" },
  concat: { spacing: 24 },
};

/** Fixed optimizer colours, so an optimizer has the same hue in every figure. */
export const OPTIMIZER_COLORS: Readonly<Record<string, string>> = {
  gd: "#7f7f7f",
  sgd: "#bcbd22",
  sam: "#1f77b4",
  usam: "#17becf",
  "1sam": "#d62728",
  "minibatch-sam": "#9467bd",
  "asc-exact": "#2ca02c",
  max: "#ff7f0e",
  avg: "#8c564b",
  "label-noise-sgd": "#e377c2",
};

/** Smallest and largest finite value, by a loop ([NaN, NaN] when none). */
export function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

/** Groups items by a key, keeping first-appearance order. */
export function groupBy<T>(items: Iterable<T>, key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/** Distinct optimizers: palette order first, then unknown ones alphabetically. */
export function optimizersOf(rows: Iterable<{ optimizer: string }>): string[] {
  const present = new Set<string>();
  for (const r of rows) present.add(r.optimizer);
  const known = Object.keys(OPTIMIZER_COLORS).filter((o) => present.has(o));
  return [...known, ...[...present].filter((o) => !(o in OPTIMIZER_COLORS)).sort()];
}

/** Rows grouped by optimizer, groups in {@linkcode optimizersOf} order. */
export function byOptimizer<T extends { optimizer: string }>(rows: readonly T[]): [string, T[]][] {
  const groups = groupBy(rows, (r) => r.optimizer);
  return optimizersOf(rows).map((o) => [o, groups.get(o)!]);
}

/**
 * Step axis of training curves: symlog, so the log-spaced early checkpoints are spread out. Ticks
 * at 0 and powers of ten, each labelled on its own (`1k`, `10k`; one shared SI prefix for all
 * ticks would print `0k 0k 1k`).
 */
export function stepAxis(lastStep: number): Record<string, unknown> {
  const last = Math.max(1, lastStep);
  const values = [0];
  for (let t = 1; t <= last; t *= 10) values.push(t);
  return {
    field: "step",
    type: "quantitative",
    title: "step t (symlog scale)",
    scale: { type: "symlog", domain: [0, last], nice: false },
    axis: {
      values,
      labelExpr: "datum.value >= 1e6 ? format(datum.value / 1e6, '~g') + 'M' : " +
        "datum.value >= 1e3 ? format(datum.value / 1e3, '~g') + 'k' : format(datum.value, '~g')",
    },
  };
}

/**
 * A linear domain around some values, padded by 6% of their range. A range below 1e-7 of the
 * values' magnitude (float noise around a constant) is widened to ±5% of the value, and values all
 * below 1e-12 in magnitude (rounding residue around 0) get [−1, 1], so the axis shows a constant
 * rather than digits of rounding error.
 */
export function linearDomain(values: Iterable<number>): [number, number] | undefined {
  const [lo, hi] = extent(values);
  if (!Number.isFinite(lo)) return undefined;
  const scale = Math.max(Math.abs(lo), Math.abs(hi));
  // Below 1e-12 in magnitude a linear axis shows rounding residue of O(1) quantities: call it 0.
  if (scale < 1e-12) return [-1, 1];
  if (hi - lo <= 1e-7 * scale) {
    const c = Number(((lo + hi) / 2).toPrecision(6));
    const half = c === 0 ? 1 : 0.05 * Math.abs(c);
    return [c - half, c + half];
  }
  const pad = 0.06 * (hi - lo);
  return [lo - pad, hi + pad];
}

/**
 * A log domain around the positive values: from max(smallest, FLOOR·largest) to largest, padded by
 * a factor 1.3 (a flat series gets a decade around it).
 */
export function logDomain(values: Iterable<number>): [number, number] | undefined {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return undefined;
  lo = Math.max(lo, hi * FLOOR);
  if (hi / lo < 1 + 1e-9) return [lo / 3.2, hi * 3.2];
  return [lo / 1.3, hi * 1.3];
}

/** A run as the figures style it (what {@linkcode runStyle} needs to know). */
export type StyledRun = RunInfo & {
  /** Mini-batch size, when the run has one. */
  readonly batch?: number;
  /** Initial point as written in the tables (a JSON array), when the run gives one. */
  readonly x0?: string;
};

/** How the runs of one figure are told apart. */
export interface RunStyle {
  /** Fields to add to each row of a run: `series` (legend label) and `seed`. */
  fields(run: string): { series: string; seed: number; swept: number };
  /** The colour encoding (on `series`, or on the swept value for a large sweep). */
  readonly color: Record<string, unknown>;
  /** The stroke-dash encoding on `seed` when seeds are told apart by dash, else undefined. */
  readonly dash?: Record<string, unknown>;
  /** The point-shape encoding on `seed` (for point marks), when seeds are told apart. */
  readonly shape?: Record<string, unknown>;
  /** Runs drawn (at most {@linkcode MAX_DRAWN_RUNS}, evenly spaced in run order). */
  readonly drawn: ReadonlySet<string>;
  /** Number of runs the figure covers. */
  readonly total: number;
}

const DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3], [10, 4], [4, 2, 1, 2, 1, 2]];
const SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "wedge"];

/** A hex colour mixed with black (t < 0) or white (t > 0) by |t|. */
export function shade(hex: string, t: number): string {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const target = t < 0 ? 0 : 255;
  const mixed = c.map((v) => Math.round(v + (target - v) * Math.abs(t)));
  return `#${mixed.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}

/** Options of {@linkcode runStyle}. */
export interface RunStyleOptions {
  /** Swept fields already shown by position (e.g. `rho` on a ρ axis): not put in labels. */
  readonly omit?: readonly SweptField[];
}

/** The swept fields, as shown in legends. */
type SweptField = "lr" | "rho" | "batch";
const SWEPT: readonly [SweptField, string][] = [["lr", "η"], ["rho", "ρ"], ["batch", "b"]];

/** "1e-3"-free short number for labels. */
function short(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/**
 * The encoding of some runs: within an optimizer's hue one shade per setting of the swept fields
 * (η, ρ, batch; darker = larger), seeds by stroke dash (points: shape), so no two runs of a legend
 * look alike. Runs that still collide (other fields differ, e.g. x0) are labelled by run name. With
 * more than {@linkcode MAX_COLORS} settings the colour is a sequential scale of the most-swept field.
 */
export function runStyle(
  runs: readonly StyledRun[],
  options: RunStyleOptions = {},
): RunStyle {
  const omit = new Set(options.omit ?? []);
  const drawn = new Set(evenly(runs.map((r) => r.run), MAX_DRAWN_RUNS));
  const shown = runs.filter((r) => drawn.has(r.run));
  const seeds = [...new Set(shown.map((r) => r.seed))].sort((a, b) => a - b);
  const dashSeeds = seeds.length > 1 && seeds.length <= DASHES.length;
  const label = new Map<string, string>();
  for (const [o, rs] of byOptimizer(shown)) {
    const varying = SWEPT.filter(([k]) => !omit.has(k) && new Set(rs.map((r) => r[k])).size > 1);
    for (const r of rs) {
      const parts = varying.map(([k, sym]) => `${sym}=${short(Number(r[k]))}`);
      if (new Set(rs.map((q) => q.x0)).size > 1 && r.x0) {
        parts.push(`x0=${r.x0.replace(/,/g, ", ")}`);
      }
      if (!dashSeeds && seeds.length > 1) parts.push(`seed ${r.seed}`);
      label.set(r.run, [o, ...parts].join(" "));
    }
  }
  const seen = groupBy(
    shown,
    (r) =>
      `${label.get(r.run)}\u0000${dashSeeds ? r.seed : ""}\u0000${
        [...omit].map((k) => r[k]).join()
      }`,
  );
  for (const group of seen.values()) {
    if (group.length > 1) { for (const r of group) label.set(r.run, r.run); }
  }
  const byRun = new Map(runs.map((r) => [r.run, r]));
  const order = (a: StyledRun, b: StyledRun) =>
    SWEPT.reduce((c, [k]) => c || Number(a[k] ?? 0) - Number(b[k] ?? 0), 0) ||
    a.run.localeCompare(b.run);
  const domain: string[] = [], range: string[] = [];
  for (const [o, rs] of byOptimizer(shown)) {
    const labels = [...new Set([...rs].sort(order).map((r) => label.get(r.run)!))];
    const base = OPTIMIZER_COLORS[o] ?? "#333333";
    labels.forEach((l, i) => {
      domain.push(l);
      // Light to dark with the swept value: from 45% white to 45% black.
      range.push(labels.length === 1 ? base : shade(base, 0.45 - 0.9 * i / (labels.length - 1)));
    });
  }
  const sweptField = (() => {
    let best: SweptField = "lr", most = 0;
    for (const [k] of SWEPT) {
      const n = new Set(shown.map((r) => r[k])).size;
      if (n > most) [best, most] = [k, n];
    }
    return best;
  })();
  const sequential = domain.length > MAX_COLORS;
  const positive = shown.every((r) => Number(r[sweptField]) > 0);
  const color = sequential
    ? {
      field: "swept",
      type: "quantitative",
      title: SWEPT.find(([k]) => k === sweptField)![1],
      scale: { type: positive ? "log" : "linear", scheme: "viridis" },
    }
    : { field: "series", type: "nominal", title: "run", scale: { domain, range }, sort: domain };
  const seedScale = { domain: seeds };
  return {
    fields(run) {
      const r = byRun.get(run);
      return {
        series: label.get(run) ?? run,
        seed: r?.seed ?? 0,
        swept: Number(r?.[sweptField] ?? NaN),
      };
    },
    color,
    dash: dashSeeds
      ? {
        field: "seed",
        type: "nominal",
        title: "seed",
        scale: { ...seedScale, range: DASHES.slice(0, seeds.length) },
        // Vega-lite does not colour a dash legend's strokes: set them, or the dashes are invisible.
        legend: {
          symbolType: "stroke",
          symbolSize: 400,
          encode: {
            symbols: {
              update: {
                stroke: { value: "#333333" },
                strokeWidth: { value: 2 },
                fill: { value: "transparent" },
              },
            },
          },
        },
      }
      : undefined,
    shape: dashSeeds
      ? {
        field: "seed",
        type: "nominal",
        title: "seed",
        scale: { ...seedScale, range: SHAPES.slice(0, seeds.length) },
      }
      : undefined,
    drawn,
    total: runs.length,
  };
}

/** At most `n` items, evenly spaced, first and last included. */
export function evenly<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.round(i * (items.length - 1) / (n - 1))]);
  return out;
}

/** "(N of M runs drawn)" when a figure draws a subset, else "". */
export function drawnNote(style: RunStyle): string {
  return style.drawn.size < style.total
    ? ` ${style.drawn.size} of ${style.total} runs drawn, evenly spaced in run order.`
    : "";
}

/** Panels laid out in rows of {@linkcode COLUMNS}, each with its own scales. */
export function grid(
  title: string,
  panels: readonly Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    title,
    config: CONFIG,
    columns: Math.min(COLUMNS, panels.length),
    concat: panels,
    resolve: { scale: { color: "shared", strokeDash: "shared", shape: "shared" } },
    ...extra,
  };
}

/** What {@linkcode etaLogLogSpec} draws: dots (one per run) and a line through their means. */
export interface EtaLogLogOptions {
  /** Figure title. */
  readonly title: string;
  /** One row per run, with `lr` and the y field. */
  readonly dots: readonly Record<string, unknown>[];
  /** One row per line point (mean over the runs sharing η and the colour field). */
  readonly means: readonly Record<string, unknown>[];
  /** The y field and its axis title. */
  readonly y: { readonly field: string; readonly title: string };
  /** The colour encoding (shared by dots and lines). */
  readonly color: Record<string, unknown>;
  /** Extra encodings of the dots (e.g. a shape per seed). */
  readonly dotEncoding?: Record<string, unknown>;
}

/** A log–log figure against η with padded domains (tracking errors, GD on L^Asc's distance). */
export function etaLogLogSpec(opts: EtaLogLogOptions): Record<string, unknown> {
  const [l0, l1] = extent(opts.dots.map((r) => Number(r.lr)));
  const x = {
    field: "lr",
    type: "quantitative",
    title: "η",
    scale: { type: "log", domain: [l0 / 1.3, l1 * 1.3], nice: false },
    axis: { format: "~g" },
  };
  const y = {
    field: opts.y.field,
    type: "quantitative",
    title: opts.y.title,
    scale: { type: "log", domain: logDomain(opts.dots.map((r) => Number(r[opts.y.field]))) },
    axis: { format: "~g" },
  };
  const color = opts.color;
  return {
    title: opts.title,
    config: CONFIG,
    width: 2 * WIDTH,
    height: HEIGHT + 60,
    layer: [
      {
        data: { values: opts.dots },
        mark: { type: "point", filled: true, size: 40, opacity: 0.7 },
        encoding: { x, y, color, ...opts.dotEncoding },
      },
      { data: { values: opts.means }, mark: { type: "line" }, encoding: { x, y, color } },
    ],
  };
}
