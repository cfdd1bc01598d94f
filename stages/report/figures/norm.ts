/**
 * Theorem 4.8: ‖x‖ of SAM on a quadratic against its predicted limit ηρλ1/(2 − ηλ1).
 * @module
 */
import { endpoints, type ExperimentTables, fmt, num, series } from "../tables.ts";
import { claimsSentence, datasetKind, divergedRuns, runsIn } from "./context.ts";
import type { Figure } from "./figure.ts";
import {
  CONFIG,
  drawnNote,
  extent,
  HEIGHT,
  logDomain,
  runStyle,
  stepAxis,
  WIDTH,
} from "./style.ts";

/** Experiment ids on a single quadratic, for plans that do not pass `dataset`. */
const QUADRATIC_IDS = new Set(["thm48-quadratic"]);

/** The norm figure, on a single quadratic with a logged ‖x‖. */
export function normFigure(exp: ExperimentTables): Figure | undefined {
  const kind = datasetKind(exp);
  if (kind ? kind !== "quadratic" : !QUADRATIC_IDS.has(exp.id)) return undefined;
  const points = series(exp.trajectory, "param_norm").filter((p) => p.value > 0);
  if (points.length === 0) return undefined;
  const eig = exp.dataset?.eigenvalues;
  let top = NaN;
  if (Array.isArray(eig)) {
    for (const v of eig) {
      top = Number.isNaN(top) ? Number(v) : Math.max(top, Number(v));
    }
  }
  const measuredLambda = new Map(exp.summary.map((r) => [String(r.run), num(r.spectral_lambda_1)]));
  const lambdaOf = (run: string) => {
    const measured = measuredLambda.get(run) ?? NaN;
    return Number.isFinite(measured) ? measured : top;
  };
  const runs = runsIn(exp, points);
  const style = runStyle(runs);
  const diverged = divergedRuns(exp);
  const limits = runs
    .filter((r) => r.optimizer === "sam" && r.rho > 0 && style.drawn.has(r.run))
    .map((r) => {
      const l = lambdaOf(r.run);
      return { run: r.run, value: r.lr * r.rho * l / (2 - r.lr * l), ...style.fields(r.run) };
    })
    .filter((l) => Number.isFinite(l.value) && l.value > 0);
  const last = endpoints(points);
  const drawn = points.filter((p) => style.drawn.has(p.run)).map((p) => ({
    ...p,
    ...style.fields(p.run),
  }));
  // GD's ‖x‖ → 0 exponentially; the axis stops a few decades below SAM's smallest limit.
  const kept = drawn.filter((p) => !diverged.has(p.run)).map((p) => p.value);
  const [, hi] = logDomain(kept.length ? kept : drawn.map((p) => p.value))!;
  const lo = limits.length ? extent(limits.map((l) => l.value))[0] / 1e3 : hi * 1e-12;
  const y = {
    field: "value",
    type: "quantitative",
    title: "‖x‖",
    scale: { type: "log", domain: [lo, hi], clamp: true },
    axis: { format: "~g" },
  };
  const color = style.color;
  const spec = {
    title: `${exp.id}: ‖x‖ (solid) and the predicted limit ηρλ1/(2 − ηλ1) (dashed)`,
    config: CONFIG,
    width: 2 * WIDTH,
    height: HEIGHT + 40,
    layer: [
      {
        data: { values: drawn },
        mark: { type: "line", point: { size: 12 }, clip: true },
        encoding: {
          x: stepAxis(extent(drawn.map((p) => p.step))[1]),
          y,
          color,
          ...(style.dash ? { strokeDash: style.dash } : {}),
          detail: { field: "run" },
          order: { field: "step" },
        },
      },
      {
        data: { values: limits },
        mark: { type: "rule", strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { y, color },
      },
    ],
  };
  const measured = limits.map((l) =>
    `${l.run} ${fmt(last.get(l.run)?.[1].value ?? NaN)} vs ${fmt(l.value)}`
  );
  const gd = runs.filter((r) => r.optimizer === "gd");
  return {
    name: `${exp.id}-norm`,
    title: `${exp.id}: SAM's limit norm on a quadratic (Thm 4.8)`,
    caption: `Theory: on this quadratic (λ1 = ${fmt(top)}) SAM's ‖x‖ → ηρλ1/(2 − ηλ1) along ±v1 ` +
      `(Thm 4.8)${gd.length ? "; GD's ‖x‖ → 0" : ""}. Measured final ‖x‖ vs predicted: ${
        measured.join("; ") || "no SAM run"
      }${
        gd.length
          ? `; ${gd.map((r) => `${r.run} ${fmt(last.get(r.run)![1].value)}`).join("; ")}`
          : ""
      }.${claimsSentence(exp, /norm|‖x‖|direction|converge/i)}${drawnNote(style)}`,
    spec,
  };
}
