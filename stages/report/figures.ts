/**
 * The report's figures: vega-lite specs built from one experiment's tables, each with a one-line
 * caption stating what the theory predicts and what the tables measured (numbers computed here
 * from the rows, never typed). A figure is produced only when its data are present, so unknown
 * experiments still get the generic ones (training curves, spectra, alignment).
 * @module
 */
import { TOY4D_FAMILIES, toy4dArgmins, type Toy4dFamily } from "../../core/problems/toy4d.ts";
import { type Box, contourLines } from "./contours.ts";
import type { VegaLiteSpec } from "./render.ts";
import {
  endpoints,
  type ExperimentTables,
  fmt,
  logLogSlope,
  mean,
  metricsOf,
  num,
  type Row,
  runsOf,
  series,
  type SeriesPoint,
} from "./tables.ts";

/** One figure of the report. */
export interface Figure {
  /** File stem, unique across the report: `<experiment>-<kind>`. */
  readonly name: string;
  /** Short title (the figure's heading). */
  readonly title: string;
  /** One line: what the theory predicts and what was measured. */
  readonly caption: string;
  /** The vega-lite spec to render. */
  readonly spec: VegaLiteSpec;
}

const WIDTH = 230;
const HEIGHT = 170;
const PLANE_WIDTH = 260;
/** Lowest value drawn on a log axis, relative to the largest. */
const FLOOR = 1e-12;
/** Step axis of training curves: symlog, so the log-spaced early checkpoints are spread out. */
function stepAxis(points: readonly { step: number }[]): Record<string, unknown> {
  const last = Math.max(0, ...points.map((p) => p.step));
  const values = [0];
  for (let t = 1; t <= last; t *= 10) values.push(t);
  return {
    field: "step",
    type: "quantitative",
    title: "step t (symlog scale)",
    scale: { type: "symlog", domain: [0, last], nice: false },
    axis: { values, format: "~s" },
  };
}

/** Shared look; fonts are left generic since the SVG is rendered without text metrics. */
const CONFIG = {
  // Per-mark ARIA descriptions would list every data point in the SVG and multiply its size.
  aria: false,
  background: "white",
  font: "Helvetica, Arial, sans-serif",
  view: { stroke: "#bbb" },
  axis: { gridColor: "#eee", labelFontSize: 10, titleFontSize: 11 },
  legend: { labelFontSize: 10, titleFontSize: 11 },
  header: { labelFontSize: 11, titleFontSize: 11 },
  title: { fontSize: 13, anchor: "start" },
};

/** Fixed optimizer colours, so an optimizer looks the same in every figure. */
const OPTIMIZER_COLORS: Readonly<Record<string, string>> = {
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

/** What the theory says each optimizer does to the spectrum (science.md §2, §7). */
const SPECTRAL_THEORY: Readonly<Record<string, string>> = {
  sam: "SAM decreases λ1 (Thm 4.5)",
  "1sam": "1-SAM decreases Tr (Thm 5.4)",
  gd: "GD keeps them constant once converged",
  sgd: "SGD keeps them constant on interpolation problems",
  usam: "USAM does not drift along Γ",
  "asc-exact": "GD on L^Asc decreases λ_M (Fig. 1)",
  max: "GD on L^Max decreases λ1 (Thm 4.2)",
  avg: "average-direction GD decreases Tr (Thm 4.2)",
  "label-noise-sgd": "label-noise SGD decreases Tr on the slower η⁻² time scale",
  "minibatch-sam": "mini-batch SAM with 1 < b < M has no theorem (Ex. 5.8)",
};

/** Which argmin each optimizer's flow ends at on the toy (science.md §5). */
const TOY_TARGET: Readonly<Record<string, "f1" | "f2" | "sum">> = {
  sam: "f1",
  max: "f1",
  "1sam": "sum",
  avg: "sum",
  "label-noise-sgd": "sum",
  "asc-exact": "f2",
};

const TARGET_LABEL = { f1: "argmin F1", f2: "argmin F2", sum: "argmin F1+F2" } as const;

/** Experiment ids of issue #4 whose data set is the toy, for plans that do not pass `dataset`. */
const TOY_IDS = new Set(["fig1-toy", "table1-explicit-bias"]);
/** Experiment ids of issue #4 on a single quadratic, for plans that do not pass `dataset`. */
const QUADRATIC_IDS = new Set(["thm48-quadratic"]);

/** Optimizers whose update ignores ρ (it only sets their τ clock): baselines in ρ sweeps. */
const IGNORE_RHO = new Set(["gd", "sgd", "label-noise-sgd"]);

/** Names of the tracking-error column or metric the claims tables may carry. */
const TRACKING = /(tracking_err(or)?|flow_err(or)?|track_err(or)?)$/;

/** Every figure of one experiment, in report order. */
export function experimentFigures(exp: ExperimentTables): Figure[] {
  return [
    planeFigure(exp),
    spectraFigure(exp),
    alignmentFigure(exp),
    normFigure(exp),
    trackingFigure(exp),
    rhoFigure(exp),
    trajectoryFigure(exp),
  ].filter((f): f is Figure => f !== undefined);
}

/** The colour encoding of the optimizers present, in the fixed palette order. */
function colorBy(optimizers: readonly string[]): Record<string, unknown> {
  const domain = optimizersOf(optimizers.map((optimizer) => ({ optimizer })));
  return {
    field: "optimizer",
    type: "nominal",
    title: "optimizer",
    scale: { domain, range: domain.map((o) => OPTIMIZER_COLORS[o] ?? "#000000") },
  };
}

/** Distinct optimizers of some rows: palette order first, then unknown ones alphabetically. */
function optimizersOf(rows: readonly { optimizer: string }[]): string[] {
  const present = new Set(rows.map((r) => r.optimizer));
  const known = Object.keys(OPTIMIZER_COLORS).filter((o) => present.has(o));
  return [...known, ...[...present].filter((o) => !(o in OPTIMIZER_COLORS)).sort()];
}

/** Rows grouped by optimizer, groups in {@linkcode optimizersOf} order. */
function byOptimizer<T extends { optimizer: string }>(rows: readonly T[]): [string, T[]][] {
  const groups = groupBy(rows, (r) => r.optimizer);
  return optimizersOf(rows).map((o) => [o, groups.get(o)!]);
}

/** Groups items by a key, keeping first-appearance order. */
function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = out.get(k);
    if (list) list.push(t);
    else out.set(k, [t]);
  }
  return out;
}

/**
 * The toy family of an experiment run on the 4-D toy, else undefined. From the dataset block when
 * the plan passes it; otherwise recognized from the data — 4 coordinates at Φ(x) whose λ1 and λ_M
 * are F1 and F2 of a family there (the toy's spectrum on Γ) — and failing that from the issue's
 * experiment ids.
 */
function toyFamily(exp: ExperimentTables): Toy4dFamily | undefined {
  if (exp.dataset) {
    if (exp.dataset.kind !== "toy4d") return undefined;
    return exp.dataset.family === "shifted" ? "shifted" : "paper";
  }
  const metrics = new Set(metricsOf(exp.spectra));
  if (metrics.has("phi_x_4") && !metrics.has("phi_x_5")) {
    const cols = ["phi_x_1", "phi_x_2", "phi_lambda_1", "phi_lambda_m"];
    const at = new Map<string, Record<string, number>>();
    for (const r of exp.spectra) {
      if (!cols.includes(String(r.metric))) continue;
      const key = `${r.run}\u0000${r.step}`;
      at.set(key, { ...at.get(key), [String(r.metric)]: num(r.value) });
    }
    const points = [...at.values()].filter((p) => cols.every((c) => Number.isFinite(p[c])));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.abs(b);
    const family = TOY4D_FAMILIES.find((f) => {
      const fns = toyFunctions(f);
      return points.length > 0 &&
        points.every((p) =>
          close(p.phi_lambda_1, fns.f1(p.phi_x_1, p.phi_x_2)) &&
          close(p.phi_lambda_m, fns.f2(p.phi_x_1, p.phi_x_2))
        );
    });
    if (family) return family;
  }
  return TOY_IDS.has(exp.id) ? "paper" : undefined;
}

/** F1 and F2 of a family: 3 + |x − c1|² and 1 + ½|x − c2|² with c1, c2 the argmins. */
function toyFunctions(family: Toy4dFamily) {
  const { f1: [p1, q1], f2: [p2, q2] } = toy4dArgmins(family);
  const f1 = (a: number, b: number) => 3 + (a - p1) ** 2 + (b - q1) ** 2;
  const f2 = (a: number, b: number) => 1 + 0.5 * ((a - p2) ** 2 + (b - q2) ** 2);
  return { f1, f2, sum: (a: number, b: number) => f1(a, b) + f2(a, b) };
}

/** Per run and step, the (x1, x2) of a tidy trajectory. */
function planePoints(rows: readonly Row[]) {
  const byKey = new Map<
    string,
    { run: string; optimizer: string; step: number; x1: number; x2: number }
  >();
  for (const r of rows) {
    if (r.metric !== "x1" && r.metric !== "x2") continue;
    const key = `${r.run}\u0000${r.step}`;
    let p = byKey.get(key);
    if (!p) {
      p = {
        run: String(r.run),
        optimizer: String(r.optimizer),
        step: num(r.step),
        x1: NaN,
        x2: NaN,
      };
      byKey.set(key, p);
    }
    p[r.metric] = num(r.value);
  }
  return [...byKey.values()].filter((p) => Number.isFinite(p.x1) && Number.isFinite(p.x2));
}

/** Figure 1 analog: (x1, x2) trajectories over the level sets of F1, F2 and F1 + F2. */
function planeFigure(exp: ExperimentTables): Figure | undefined {
  const family = toyFamily(exp);
  if (!family) return undefined;
  const points = planePoints(exp.trajectory);
  if (points.length === 0) return undefined;
  const argmins = toy4dArgmins(family);
  const fns = toyFunctions(family);
  // Diverged runs leave the picture rather than shrinking it to a dot.
  const inView = points.filter((p) => Math.abs(p.x1) <= 4 && Math.abs(p.x2) <= 4);
  const xs = [...inView.map((p) => p.x1), argmins.f1[0], argmins.f2[0], argmins.sum[0]];
  const ys = [...inView.map((p) => p.x2), argmins.f1[1], argmins.f2[1], argmins.sum[1]];
  const pad = (lo: number, hi: number) => {
    const d = 0.12 * (hi - lo) + 0.1;
    return [Math.floor(10 * (lo - d)) / 10, Math.ceil(10 * (hi + d)) / 10];
  };
  let [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  let [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  // Equal units on both axes (level sets are circles), the box widened to keep a sane aspect.
  const [lo, hi] = [0.55, 1.3];
  if ((y1 - y0) < lo * (x1 - x0)) {
    const grow = (lo * (x1 - x0) - (y1 - y0)) / 2;
    [y0, y1] = [y0 - grow, y1 + grow];
  } else if ((y1 - y0) > hi * (x1 - x0)) {
    const grow = ((y1 - y0) / hi - (x1 - x0)) / 2;
    [x0, x1] = [x0 - grow, x1 + grow];
  }
  const box: Box = { x0, x1, y0, y1 };
  const width = PLANE_WIDTH;
  const height = Math.round(width * (y1 - y0) / (x1 - x0));
  const runs = endpoints(points.map((p) => ({ ...p, tau: 0, value: 0 })));
  const starts = [...runs.values()].map(([s]) =>
    points.find((p) => p.run === s.run && p.step === s.step)!
  );
  const ends = [...runs.values()].map(([, e]) =>
    points.find((p) => p.run === e.run && p.step === e.step)!
  );
  const marks = (["f1", "f2", "sum"] as const).map((k) => ({
    label: TARGET_LABEL[k],
    x1: argmins[k][0],
    x2: argmins[k][1],
  }));
  const shape = {
    field: "label",
    type: "nominal",
    title: "marker",
    scale: { domain: marks.map((m) => m.label), range: ["cross", "diamond", "square"] },
  };
  const x = {
    field: "x1",
    type: "quantitative",
    title: "x1",
    scale: { domain: [x0, x1], nice: false, zero: false },
  };
  const y = {
    field: "x2",
    type: "quantitative",
    title: "x2",
    scale: { domain: [y0, y1], nice: false, zero: false },
  };
  const color = colorBy(optimizersOf(points));
  const panel = (title: string, f: (a: number, b: number) => number) => ({
    title,
    width,
    height,
    layer: [
      {
        data: { values: contourData(f, box) },
        mark: { type: "line", color: "#aaaaaa", strokeWidth: 0.7, clip: true },
        encoding: { x, y, detail: { field: "path" }, order: { field: "order" } },
      },
      {
        data: { values: points },
        mark: { type: "line", strokeWidth: 1.8, clip: true },
        encoding: { x, y, color, detail: { field: "run" }, order: { field: "step" } },
      },
      {
        data: { values: starts },
        mark: {
          type: "point",
          shape: "circle",
          size: 45,
          filled: false,
          strokeWidth: 1.5,
          clip: true,
        },
        encoding: { x, y, color },
      },
      {
        data: { values: ends },
        mark: { type: "point", shape: "circle", size: 45, filled: true, opacity: 1, clip: true },
        encoding: { x, y, color },
      },
      {
        data: { values: marks },
        mark: { type: "point", size: 70, filled: true, opacity: 1, color: "black" },
        encoding: { x, y, shape },
      },
    ],
  });
  const spec = {
    title: `${exp.id}: (x1, x2) trajectories (open: start, filled: end)`,
    config: CONFIG,
    hconcat: [
      panel("level sets of F1 = λ1 on Γ", fns.f1),
      panel("level sets of F2 = λ_M on Γ", fns.f2),
      panel("level sets of F1 + F2 = Tr on Γ", fns.sum),
    ],
    resolve: { scale: { color: "shared", shape: "shared" } },
  };
  const byOpt = byOptimizer(ends);
  const predicted = byOpt.map(([o]) => o).map((o) => {
    const t = TOY_TARGET[o];
    return t ? `${o} → ${TARGET_LABEL[t]} ${pair(argmins[t])}` : `${o} stays near Φ(x₀)`;
  });
  const measured = byOpt.map(([o, es]) => `${o} ${es.map((e) => pair([e.x1, e.x2])).join(", ")}`);
  return {
    name: `${exp.id}-plane`,
    title: `${exp.id}: trajectories in the (x1, x2) plane (Figure 1)`,
    caption: `Theory (family "${family}"): ${predicted.join("; ")}. Measured endpoints (x1, x2): ${
      measured.join("; ")
    }.`,
    spec,
  };
}

/** "(a, b)" with 3 significant digits. */
function pair([a, b]: readonly number[]): string {
  return `(${fmt(Number(a.toPrecision(3)))}, ${fmt(Number(b.toPrecision(3)))})`;
}

/** Contour polylines of f over the box as rows for a `line` mark (8 levels, evenly spaced radii). */
function contourData(f: (a: number, b: number) => number, box: Box) {
  const n = 61;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = f(
        box.x0 + (box.x1 - box.x0) * i / (n - 1),
        box.y0 + (box.y1 - box.y0) * j / (n - 1),
      );
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  // Near a minimum f − min grows like r², so squares of evenly spaced fractions give evenly spaced rings.
  const levels = Array.from({ length: 8 }, (_, k) => lo + (hi - lo) * ((k + 1) / 9) ** 2);
  const rows: { path: number; order: number; x1: number; x2: number }[] = [];
  contourLines(f, box, levels, { resolution: n }).forEach((line, path) =>
    line.points.forEach(([a, b], order) =>
      rows.push({ path, order, x1: Number(a.toFixed(5)), x2: Number(b.toFixed(5)) })
    )
  );
  return rows;
}

/** The x axis of a time plot: τ when every run's clock runs (ρ > 0), else the step count. */
function timeAxis(points: readonly SeriesPoint[]): { field: "tau" | "step"; title: string } {
  const ticking = groupBy(points.filter((p) => p.step > 0), (p) => p.run);
  const allTick = ticking.size > 0 &&
    [...ticking.values()].every((ps) => ps.some((p) => p.tau > 0));
  return allTick ? { field: "tau", title: "τ = ηρ²t" } : { field: "step", title: "step t" };
}

/** A quantity plotted in a faceted figure: display label and the first available metric. */
interface Quantity {
  readonly label: string;
  readonly metrics: readonly string[];
}

/** Tidy rows {quantity, run, optimizer, step, tau, value} of the first available metric per quantity. */
function quantityRows(rows: readonly Row[], quantities: readonly Quantity[]) {
  const present = new Set(metricsOf(rows));
  const out: (SeriesPoint & { quantity: string; metric: string })[] = [];
  const used: { label: string; metric: string }[] = [];
  for (const q of quantities) {
    const metric = q.metrics.find((m) => present.has(m) && series(rows, m).length > 0);
    if (!metric) continue;
    used.push({ label: q.label, metric });
    for (const p of series(rows, metric)) out.push({ ...p, quantity: q.label, metric });
  }
  return { rows: out, used };
}

/** A faceted time plot (one panel per quantity) or, with one checkpoint per run, a per-run dot plot. */
function facetedTimeSpec(
  title: string,
  rows: readonly (SeriesPoint & { quantity: string })[],
  order: readonly string[],
  yScale: Record<string, unknown> = {},
): VegaLiteSpec {
  const perRun = groupBy(rows, (r) => `${r.quantity}\u0000${r.run}`);
  const single = [...perRun.values()].every((ps) => ps.length <= 1);
  const color = colorBy(optimizersOf(rows));
  const y = {
    field: "value",
    type: "quantitative",
    title: null,
    scale: { zero: false, ...yScale },
    axis: { format: "~g" },
  };
  const column = { field: "quantity", type: "nominal", sort: order, title: null };
  const encoding = single
    ? {
      column,
      x: { field: "run", type: "nominal", sort: runsOf(rows).map((r) => r.run), title: null },
      y,
      color,
    }
    : (() => {
      const axis = timeAxis(rows);
      return {
        column,
        x: axis.field === "tau"
          ? { field: "tau", type: "quantitative", title: axis.title }
          : stepAxis(rows),
        y,
        color,
        detail: { field: "run" },
        order: { field: "step" },
      };
    })();
  return {
    title,
    config: CONFIG,
    data: { values: rows },
    width: WIDTH,
    height: HEIGHT,
    mark: single
      ? { type: "point", filled: true, size: 50 }
      : { type: "line", point: maxLength(perRun) <= 30 ? { size: 20 } : false },
    encoding,
    resolve: { scale: { y: "independent" } },
  };
}

/** Length of the longest group. */
function maxLength(groups: ReadonlyMap<string, readonly unknown[]>): number {
  return Math.max(0, ...[...groups.values()].map((g) => g.length));
}

/** Per optimizer, "label first → last" of each quantity (means over that optimizer's runs). */
function firstLast(
  rows: readonly (SeriesPoint & { quantity: string })[],
  labels: readonly string[],
) {
  return byOptimizer(rows).map(([o, ps]) => {
    const parts = labels.flatMap((label) => {
      const ends = [...endpoints(ps.filter((p) => p.quantity === label)).values()];
      if (ends.length === 0) return [];
      const a = mean(ends.map((e) => e[0].value)), b = mean(ends.map((e) => e[1].value));
      return [
        ends.every((e) => e[0] === e[1]) ? `${label} ${fmt(b)}` : `${label} ${fmt(a)} → ${fmt(b)}`,
      ];
    });
    const n = new Set(ps.map((p) => p.run)).size;
    return `${o} ${parts.join(", ")}${n > 1 ? ` (mean of ${n} runs)` : ""}`;
  });
}

/** λ1, λ_M and Tr along training (at Φ(x) when the spectra were taken on the manifold). */
function spectraFigure(exp: ExperimentTables): Figure | undefined {
  const quantities: Quantity[] = [
    { label: "λ1", metrics: ["phi_lambda_1", "lambda_1"] },
    { label: "λ_M", metrics: ["phi_lambda_m", "lambda_m"] },
    { label: "Tr", metrics: ["phi_trace", "trace"] },
  ];
  const { rows, used } = quantityRows(exp.spectra, quantities);
  if (rows.length === 0) return undefined;
  const labels = used.map((u) => u.label);
  const where = used.some((u) => u.metric.startsWith("phi_")) ? " at Φ(x)" : "";
  const theory = optimizersOf(rows).map((o) => SPECTRAL_THEORY[o]).filter(Boolean);
  return {
    name: `${exp.id}-spectra`,
    title: `${exp.id}: Hessian spectrum${where} along training`,
    caption:
      `Theory: ${theory.length ? theory.join("; ") : "no prediction for these optimizers"}. ` +
      `Measured${where} (first → last checkpoint): ${firstLast(rows, labels).join("; ")}.`,
    spec: facetedTimeSpec(`${exp.id}: ${labels.join(", ")}${where} per optimizer`, rows, labels),
  };
}

/** |cos(∇L, v1)| and the per-sample alignment along training. */
function alignmentFigure(exp: ExperimentTables): Figure | undefined {
  const quantities: Quantity[] = [
    { label: "|cos(∇L, v1)|", metrics: ["cos_align"] },
    { label: "mean_k |cos(∇L_k, v1(∇²L_k))|", metrics: ["cos_align_sample_mean"] },
  ];
  const { rows, used } = quantityRows(exp.spectra, quantities);
  if (rows.length === 0) return undefined;
  const labels = used.map((u) => u.label);
  return {
    name: `${exp.id}-alignment`,
    title: `${exp.id}: gradient / top-eigenvector alignment`,
    caption: "Theory: SAM's |cos(∇L, v1)| → 1 (angle O(ρ), §3); 1-SAM's per-sample " +
      "|cos(∇L_k, v1(∇²L_k))| → 1 when each ∇²L_k has rank 1 (Thm 5.4; not for Ex. 5.8's full-rank " +
      `quadratics); GD/SGD: no constraint. Measured: ${firstLast(rows, labels).join("; ")}.`,
    spec: facetedTimeSpec(`${exp.id}: alignment cosines`, rows, labels, { domain: [0, 1] }),
  };
}

/** Whether the experiment runs on a single quadratic. */
function isQuadratic(exp: ExperimentTables): boolean {
  return exp.dataset ? exp.dataset.kind === "quadratic" : QUADRATIC_IDS.has(exp.id);
}

/** Theorem 4.8: ‖x‖ of SAM on a quadratic against its predicted limit ηρλ1/(2 − ηλ1). */
function normFigure(exp: ExperimentTables): Figure | undefined {
  if (!isQuadratic(exp)) return undefined;
  const points = series(exp.trajectory, "param_norm").filter((p) => p.value > 0);
  if (points.length === 0) return undefined;
  const eig = exp.dataset?.eigenvalues;
  const lambdaOf = (run: string) => {
    const s = exp.summary.find((r) => r.run === run);
    const measured = num(s?.spectral_lambda_1);
    return Number.isFinite(measured)
      ? measured
      : Array.isArray(eig)
      ? Math.max(...eig.map(Number))
      : NaN;
  };
  const limits = runsOf(exp.trajectory)
    .filter((r) => r.optimizer === "sam" && r.rho > 0)
    .map((r) => {
      const l = lambdaOf(r.run);
      return { run: r.run, optimizer: r.optimizer, predicted: r.lr * r.rho * l / (2 - r.lr * l) };
    })
    .filter((l) => Number.isFinite(l.predicted) && l.predicted > 0);
  const last = endpoints(points);
  const runs = runsOf(points).map((r) => r.run);
  const color = { field: "run", type: "nominal", title: "run", sort: runs };
  // GD's ‖x‖ → 0 exponentially; the axis stops a few decades below SAM's limits.
  const top = Math.max(...points.map((p) => p.value));
  const bottom = limits.length ? Math.min(...limits.map((l) => l.predicted)) / 1e3 : top * FLOOR;
  const y = {
    field: "value",
    type: "quantitative",
    title: "‖x‖",
    scale: { type: "log", domain: [bottom, top * 1.5], clamp: true },
  };
  const spec = {
    title: `${exp.id}: ‖x‖ (solid) and the predicted limit ηρλ1/(2 − ηλ1) (dashed)`,
    config: CONFIG,
    width: 2 * WIDTH,
    height: HEIGHT + 40,
    layer: [
      {
        data: { values: points },
        mark: { type: "line", point: { size: 15 }, clip: true },
        encoding: {
          x: stepAxis(points),
          y,
          color,
          order: { field: "step" },
        },
      },
      {
        data: { values: limits.map((l) => ({ ...l, value: l.predicted })) },
        mark: { type: "rule", strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { y, color },
      },
    ],
  };
  const measured = limits.map((l) =>
    `${l.run} ${fmt(last.get(l.run)?.[1].value ?? NaN)} vs ${fmt(l.predicted)}`
  );
  const gd = runsOf(points).filter((r) => r.optimizer === "gd").map((r) =>
    `${r.run} ${fmt(last.get(r.run)![1].value)}`
  );
  return {
    name: `${exp.id}-norm`,
    title: `${exp.id}: SAM's limit norm on a quadratic (Thm 4.8)`,
    caption: "Theory: SAM's ‖x‖ → ηρλ1/(2 − ηλ1) along ±v1 (Thm 4.8); GD's ‖x‖ → 0. " +
      `Measured final ‖x‖ vs predicted: ${measured.join("; ") || "no SAM run"}${
        gd.length ? `; ${gd.join("; ")}` : ""
      }.`,
    spec,
  };
}

/** Rows {run, optimizer, lr, rho, seed, error} from whichever table carries a tracking error. */
function trackingRows(exp: ExperimentTables) {
  const wide: [string, readonly Row[]][] = [
    ["summary.csv", exp.summary],
    ...Object.entries(exp.extra),
  ];
  for (const [, rows] of wide) {
    const col = Object.keys(rows[0] ?? {}).find((c) => TRACKING.test(c));
    if (!col || !("lr" in rows[0])) continue;
    const out = rows.map((r) => ({
      run: String(r.run ?? ""),
      optimizer: String(r.optimizer ?? ""),
      lr: num(r.lr),
      rho: num(r.rho),
      seed: num(r.seed),
      error: num(r[col]),
    })).filter((r) => r.lr > 0 && r.error > 0);
    if (out.length) return { rows: out, metric: col };
  }
  const tidy: (readonly Row[])[] = [exp.trajectory, exp.spectra, ...Object.values(exp.extra)];
  for (const rows of tidy) {
    const metric = metricsOf(rows).find((m) => TRACKING.test(m));
    if (!metric) continue;
    const runs = new Map(runsOf(rows).map((r) => [r.run, r]));
    const out = [...endpoints(series(rows, metric)).values()].map(([, e]) => {
      const r = runs.get(e.run)!;
      return {
        run: r.run,
        optimizer: r.optimizer,
        lr: r.lr,
        rho: r.rho,
        seed: r.seed,
        error: e.value,
      };
    }).filter((r) => r.lr > 0 && r.error > 0);
    if (out.length) return { rows: out, metric };
  }
  return toyTrackingRows(exp);
}

/** Name of the tracking error the report computes itself on the toy. */
const TOY_TRACKING = "‖X − X_flow(τ)‖";

/**
 * On the toy the flows are closed-form (science.md §5): with c the argmin of F1 (SAM) or of F1 + F2
 * (1-SAM), X(τ) = c + (X(0) − c)·e^{−kτ}, k = 1 (SAM) or 1.5 (1-SAM). When no table carries a
 * tracking error, the error at the last checkpoint is computed from (x1, x2) — at Φ(x) when the
 * spectra were taken on the manifold, X(0) being the first checkpoint — for SAM and 1-SAM runs,
 * provided some optimizer ran at two or more η.
 */
function toyTrackingRows(exp: ExperimentTables) {
  const family = toyFamily(exp);
  if (!family) return undefined;
  const argmins = toy4dArgmins(family);
  const flows: Record<string, { c: readonly number[]; k: number }> = {
    sam: { c: argmins.f1, k: 1 },
    "1sam": { c: argmins.sum, k: 1.5 },
  };
  const onManifold = series(exp.spectra, "phi_x_1").length > 0;
  const [source, m1, m2] = onManifold
    ? [exp.spectra, "phi_x_1", "phi_x_2"]
    : [exp.trajectory, "x1", "x2"];
  const a = endpoints(series(source, m1)), b = endpoints(series(source, m2));
  const rows = runsOf(source).filter((r) => r.optimizer in flows && a.has(r.run) && b.has(r.run))
    .map((r) => {
      const { c, k } = flows[r.optimizer];
      const [a0, a1] = a.get(r.run)!, [b0, b1] = b.get(r.run)!;
      const decay = Math.exp(-k * (a1.tau - a0.tau));
      const error = Math.hypot(
        a1.value - (c[0] + (a0.value - c[0]) * decay),
        b1.value - (c[1] + (b0.value - c[1]) * decay),
      );
      return { run: r.run, optimizer: r.optimizer, lr: r.lr, rho: r.rho, seed: r.seed, error };
    })
    .filter((r) => r.lr > 0 && r.error > 0 && a.get(r.run)![1].tau > a.get(r.run)![0].tau);
  const swept = [...groupBy(rows, (r) => r.optimizer).values()]
    .some((g) => new Set(g.map((r) => r.lr)).size >= 2);
  return swept ? { rows, metric: TOY_TRACKING } : undefined;
}

/** Tracking error against the limiting flow vs η, log–log, with fitted slopes (Thm 4.5, 5.4). */
function trackingFigure(exp: ExperimentTables): Figure | undefined {
  const found = trackingRows(exp);
  if (!found) return undefined;
  const { rows, metric } = found;
  const color = colorBy(optimizersOf(rows));
  const x = { field: "lr", type: "quantitative", title: "η", scale: { type: "log" } };
  const y = { field: "error", type: "quantitative", title: metric, scale: { type: "log" } };
  const spec = {
    title: `${exp.id}: ${metric} vs η (dots: runs, line: mean over seeds)`,
    config: CONFIG,
    data: { values: rows },
    width: 2 * WIDTH,
    height: HEIGHT + 60,
    layer: [
      { mark: { type: "point", filled: true, size: 35, opacity: 0.6 }, encoding: { x, y, color } },
      {
        mark: { type: "line", point: { size: 25 } },
        encoding: { x, y: { ...y, aggregate: "mean" }, color },
      },
    ],
  };
  const slopes = byOptimizer(rows).map(([o, rs]) => {
    const means = [...groupBy(rs, (r) => String(r.lr))].map(([, g]) =>
      [g[0].lr, mean(g.map((r) => r.error))] as const
    );
    const range = `${fmt(Math.min(...means.map((m) => m[1])))}–${
      fmt(Math.max(...means.map((m) => m[1])))
    }`;
    return `${o} slope ${fmt(logLogSlope(means))} over ${means.length} η values (error ${range})`;
  });
  return {
    name: `${exp.id}-tracking`,
    title: `${exp.id}: tracking error against the limiting flow`,
    caption:
      (metric === TOY_TRACKING
        ? "Error computed here from (x1, x2) against the closed-form leading-order flow of the toy " +
          "(no finite-η correction). "
        : "") +
      "Theory: SAM tracks the λ1 flow with error O(η ln(1/ρ)) (Thm 4.5: slope ≈ 1 in η at " +
      "fixed ρ/η); 1-SAM tracks the Tr flow with error Õ(η^½ + ρ) (Thm 5.4). " +
      `Measured log–log slope of the mean error: ${slopes.join("; ")}.`,
    spec,
  };
}

/** Final metrics against ρ when the runs sweep ρ (e.g. the diagonal net's test loss and Tr). */
function rhoFigure(exp: ExperimentTables): Figure | undefined {
  const ignoresRho = (r: Row) => IGNORE_RHO.has(String(r.optimizer));
  const swept = exp.summary.filter((r) => num(r.rho) > 0 && !ignoresRho(r));
  if (new Set(swept.map((r) => num(r.rho))).size < 2) return undefined;
  const baselines = exp.summary.filter(ignoresRho);
  const columns = Object.keys(exp.summary[0] ?? {});
  const pick = (...names: string[]) => names.find((n) => columns.includes(n));
  const chosen: [string, string | undefined][] = [
    ["Tr", pick("spectral_phi_trace", "spectral_trace")],
    ["λ1", pick("spectral_phi_lambda_1", "spectral_lambda_1")],
    ...columns.filter((c) => /test/.test(c) && !/_se$/.test(c)).map((c) =>
      [c, c] as [string, string]
    ),
    ["|cos(∇L, v1)|", pick("spectral_cos_align")],
    ["loss", pick("loss")],
  ];
  const tidy = (from: readonly Row[], baseline: boolean) =>
    chosen.flatMap(([quantity, col]) =>
      col === undefined ? [] : from.map((r) => ({
        quantity,
        run: String(r.run),
        optimizer: String(r.optimizer),
        rho: num(r.rho),
        value: num(r[col]),
        baseline,
      })).filter((r) => Number.isFinite(r.value))
    );
  const rows = tidy(swept, false);
  if (rows.length === 0) return undefined;
  const base = tidy(baselines, true);
  const order = [...new Set(rows.map((r) => r.quantity))];
  const color = colorBy(optimizersOf([...rows, ...base]));
  const x = { field: "rho", type: "quantitative", title: "ρ", scale: { type: "log" } };
  const y = {
    field: "value",
    type: "quantitative",
    title: null,
    scale: { zero: false },
    axis: { format: "~g" },
  };
  const spec = {
    title: `${exp.id}: final values vs ρ (dots: runs, line: mean${
      base.length ? ", dashed: optimizers that ignore ρ" : ""
    })`,
    config: CONFIG,
    data: { values: [...rows, ...base] },
    facet: { column: { field: "quantity", type: "nominal", sort: order, title: null } },
    spec: {
      width: WIDTH - 40,
      height: HEIGHT,
      layer: [
        {
          transform: [{ filter: "!datum.baseline" }],
          mark: { type: "point", filled: true, size: 35, opacity: 0.6 },
          encoding: { x, y, color },
        },
        {
          transform: [{ filter: "!datum.baseline" }],
          mark: { type: "line" },
          encoding: { x, y: { ...y, aggregate: "mean" }, color },
        },
        ...(base.length
          ? [{
            transform: [{ filter: "datum.baseline" }],
            mark: { type: "rule", strokeDash: [5, 4] },
            encoding: { y: { ...y, aggregate: "mean" }, color },
          }]
          : []),
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
  const measured = byOptimizer(rows).map(([o, rs]) => {
    const rhos = [...new Set(rs.map((r) => r.rho))].sort((a, b) => a - b);
    const lo = rhos[0], hi = rhos[rhos.length - 1];
    const at = (q: string, rho: number) =>
      mean(rs.filter((r) => r.quantity === q && r.rho === rho).map((r) => r.value));
    const parts = order.filter((q) => rs.some((r) => r.quantity === q)).map((q) =>
      `${q} ${fmt(at(q, lo))} → ${fmt(at(q, hi))}`
    );
    return `${o} (ρ ${fmt(lo)} → ${fmt(hi)}): ${parts.join(", ")}`;
  });
  for (const [o, rs] of byOptimizer(base)) {
    const parts = order.filter((q) => rs.some((r) => r.quantity === q)).map((q) =>
      `${q} ${fmt(mean(rs.filter((r) => r.quantity === q).map((r) => r.value)))}`
    );
    measured.push(`${o} (ignores ρ): ${parts.join(", ")}`);
  }
  return {
    name: `${exp.id}-vs-rho`,
    title: `${exp.id}: final metrics vs ρ`,
    caption:
      "Theory: along Γ SAM descends λ1 and 1-SAM descends Tr at rate ∝ ηρ² per step (Thm 4.5, " +
      "5.4), so at a fixed step budget a larger ρ should end at a smaller λ1 (SAM) or Tr (1-SAM); " +
      `USAM does not drift. Measured: ${measured.join("; ")}.`,
    spec,
  };
}

/** Training curves: every scalar trajectory metric (not the coordinates) vs step, log scale. */
function trajectoryFigure(exp: ExperimentTables): Figure | undefined {
  const metrics = metricsOf(exp.trajectory).filter((m) => !/^x\d+$/.test(m) && m !== "sample");
  // A run converging to 0 (GD: 1e-90 and below) would flatten every other curve on a log axis:
  // values are drawn no lower than FLOOR × the metric's largest value.
  const rows = metrics.flatMap((m) => {
    const pts = series(exp.trajectory, m).filter((p) => p.value > 0);
    const floor = FLOOR * Math.max(...pts.map((p) => p.value));
    return pts.map((p) => ({ ...p, metric: m, value: Math.max(p.value, floor) }));
  });
  if (rows.length === 0) return undefined;
  const color = colorBy(optimizersOf(rows));
  const spec = {
    title:
      `${exp.id}: training curves (log scale; values below ${FLOOR} × max drawn at that floor)`,
    config: CONFIG,
    data: { values: rows },
    width: WIDTH - 40,
    height: HEIGHT - 30,
    mark: { type: "line", strokeWidth: 1.2 },
    encoding: {
      facet: { field: "metric", type: "nominal", sort: metrics, columns: 3, title: null },
      x: stepAxis(rows),
      y: { field: "value", type: "quantitative", title: null, scale: { type: "log" } },
      color,
      detail: { field: "run" },
      order: { field: "step" },
    },
    resolve: { scale: { y: "independent" } },
  };
  const loss = series(exp.trajectory, "loss");
  const finals = byOptimizer([...endpoints(loss).values()].map(([, e]) => e))
    .map(([o, es]) => `${o} ${fmt(mean(es.map((e) => e.value)))}`);
  return {
    name: `${exp.id}-trajectory`,
    title: `${exp.id}: training curves`,
    caption: "Theory: after Phase I (O(ln(1/ρ)/η) steps) SAM-family runs stay O(ηρ) from Γ, so " +
      "their loss settles at O(η²ρ²), while GD's loss keeps falling to 0. " +
      `Measured final loss${
        finals.length ? ` (mean per optimizer): ${finals.join("; ")}` : ": none logged"
      }.`,
    spec,
  };
}
