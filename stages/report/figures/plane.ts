/**
 * Figure 1 analog: (x1, x2) trajectories of the toy over the level sets of F1, F2 and F1 + F2.
 * @module
 */
import { toy4dArgmins } from "../../../core/problems/toy4d.ts";
import { type Box, contourLines } from "../contours.ts";
import { coordinateSeries, type ExperimentTables, fmt } from "../tables.ts";
import { claimsSentence, runsIn } from "./context.ts";
import type { Figure } from "./figure.ts";
import { byOptimizer, CONFIG, drawnNote, extent, runStyle } from "./style.ts";
import { toyFamily, toyFunctions } from "./toy.ts";

const PLANE_WIDTH = 250;

/** Which argmin each optimizer's flow ends at on the toy (Figure 1, Table 1). */
const TOY_TARGET: Readonly<Record<string, "f1" | "f2" | "sum">> = {
  sam: "f1",
  max: "f1",
  "1sam": "sum",
  avg: "sum",
  "label-noise-sgd": "sum",
  "asc-exact": "f2",
};

const TARGET_LABEL = { f1: "argmin F1", f2: "argmin F2", sum: "argmin F1+F2" } as const;

/** Per run and step, (x1, x2) of the parameters. */
function planePoints(exp: ExperimentTables) {
  const x2 = new Map<string, number>();
  for (const p of coordinateSeries(exp, 2)) x2.set(`${p.run}\u0000${p.step}`, p.value);
  const out: { run: string; optimizer: string; step: number; x1: number; x2: number }[] = [];
  for (const p of coordinateSeries(exp, 1)) {
    const b = x2.get(`${p.run}\u0000${p.step}`);
    if (b !== undefined) {
      out.push({ run: p.run, optimizer: p.optimizer, step: p.step, x1: p.value, x2: b });
    }
  }
  return out;
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

/** The plane figure, for an experiment on the toy with logged (x1, x2). */
export function planeFigure(exp: ExperimentTables): Figure | undefined {
  const family = toyFamily(exp);
  if (!family) return undefined;
  const all = planePoints(exp);
  if (all.length === 0) return undefined;
  const style = runStyle(runsIn(exp, all));
  const points = all.filter((p) => style.drawn.has(p.run)).map((p) => ({
    ...p,
    ...style.fields(p.run),
  }));
  const argmins = toy4dArgmins(family);
  const fns = toyFunctions(family);
  // Diverged runs leave the picture rather than shrinking it to a dot.
  const inView = points.filter((p) => Math.abs(p.x1) <= 4 && Math.abs(p.x2) <= 4);
  const marks = (["f1", "f2", "sum"] as const).map((k) => ({
    label: TARGET_LABEL[k],
    x1: argmins[k][0],
    x2: argmins[k][1],
  }));
  const pad = ([lo, hi]: [number, number]) => {
    const d = 0.12 * (hi - lo) + 0.1;
    return [Math.floor(10 * (lo - d)) / 10, Math.ceil(10 * (hi + d)) / 10];
  };
  let [x0, x1] = pad(extent([...inView.map((p) => p.x1), ...marks.map((m) => m.x1)]));
  let [y0, y1] = pad(extent([...inView.map((p) => p.x2), ...marks.map((m) => m.x2)]));
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
  const firstLast = new Map<string, [(typeof points)[0], (typeof points)[0]]>();
  for (const p of points) {
    const e = firstLast.get(p.run);
    if (!e) firstLast.set(p.run, [p, p]);
    else {
      if (p.step < e[0].step) e[0] = p;
      if (p.step >= e[1].step) e[1] = p;
    }
  }
  const starts = [...firstLast.values()].map(([s]) => s);
  const ends = [...firstLast.values()].map(([, e]) => e);
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
  const color = style.color;
  const dash = style.dash ? { strokeDash: style.dash } : {};
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
        encoding: { x, y, color, ...dash, detail: { field: "run" }, order: { field: "step" } },
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
    columns: 3,
    concat: [
      panel("level sets of F1 = λ1 on Γ", fns.f1),
      panel("level sets of F2 = λ_M on Γ", fns.f2),
      panel("level sets of F1 + F2 = Tr on Γ", fns.sum),
    ],
    resolve: { scale: { color: "shared", shape: "shared", strokeDash: "shared" } },
  };
  const byOpt = byOptimizer(ends);
  const predicted = byOpt.map(([o]) => {
    const t = TOY_TARGET[o];
    return t ? `${o} → ${TARGET_LABEL[t]} ${pair(argmins[t])}` : `${o} stays near Φ(x₀)`;
  });
  const measured = byOpt.map(([o, es]) => `${o} ${es.map((e) => pair([e.x1, e.x2])).join(", ")}`);
  return {
    name: `${exp.id}-plane`,
    title: `${exp.id}: trajectories in the (x1, x2) plane (Figure 1)`,
    caption:
      `Theory (toy family "${family}", for the optimizers run here): ${predicted.join("; ")}. ` +
      `Measured endpoints (x1, x2): ${measured.join("; ")}.${
        claimsSentence(exp, /endpoint|argmin|stays|toy_/i)
      }${drawnNote(style)}`,
    spec,
  };
}
