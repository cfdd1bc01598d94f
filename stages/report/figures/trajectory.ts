/**
 * Training curves: every scalar trajectory metric (not the parameters, not the sample index) along
 * training, on a log axis where the metric is positive (losses, norms).
 * @module
 */
import { endpoints, type ExperimentTables, fmt, mean, metricsOf, series } from "../tables.ts";
import { claimsSentence, divergedRuns, optimizersRun, runsIn } from "./context.ts";
import type { Figure } from "./figure.ts";
import { byOptimizer, drawnNote, runStyle } from "./style.ts";
import { type Quantity, quantityRows, timePanels } from "./time_series.ts";

/** The training-curves figure, when the trajectory has a scalar metric. */
export function trajectoryFigure(exp: ExperimentTables): Figure | undefined {
  const metrics = metricsOf(exp.trajectory).filter((m) => !/^x\d+$/.test(m) && m !== "sample");
  const quantities: Quantity[] = metrics.map((m) => {
    // Log axis for non-negative metrics with a positive value (losses, norms; an exact 0 is drawn
    // at the axis floor).
    let negative = false, positive = false;
    for (const p of series(exp.trajectory, m)) {
      if (p.value < 0) negative = true;
      else if (p.value > 0) positive = true;
    }
    return { label: m, metrics: [m], log: positive && !negative };
  });
  const { rows, used } = quantityRows(exp.trajectory, quantities);
  if (rows.length === 0) return undefined;
  const diverged = divergedRuns(exp);
  const style = runStyle(runsIn(exp, rows));
  const opts = optimizersRun(exp);
  const samFamily = [...opts].filter((o) => o !== "gd" && o !== "sgd" && o !== "label-noise-sgd");
  const theory = [
    samFamily.length
      ? `after Phase I (O(ln(1/ρ)/η) steps) ${
        samFamily.join(", ")
      } stay O(ηρ) from the minimizers, ` +
        "so their loss settles at O(η²ρ²)"
      : "",
    opts.has("gd") ? "GD's loss falls to 0 (linearly on a quadratic)" : "",
  ].filter(Boolean);
  const loss = series(exp.trajectory, "loss").filter((p) => !diverged.has(p.run));
  const finals = byOptimizer([...endpoints(loss).values()].map(([, e]) => e))
    .map(([o, es]) => `${o} ${fmt(mean(es.map((e) => e.value)))}`);
  const log = used.filter((u) => u.log).map((u) => u.label);
  return {
    name: `${exp.id}-trajectory`,
    title: `${exp.id}: training curves`,
    caption: `${theory.length ? `Theory: ${theory.join("; ")}. ` : ""}Measured final loss${
      finals.length ? ` (mean per optimizer): ${finals.join("; ")}` : ": none logged"
    }.${
      diverged.size
        ? ` Diverged (kept out of the axis ranges, clamped at the edge, last point ×): ${
          [...diverged].join(", ")
        }.`
        : ""
    }${
      log.length
        ? ` Log axes: ${
          log.join(", ")
        } (values below 1e-12 × the largest, and exact zeros, on the floor).`
        : ""
    }${claimsSentence(exp, /loss|converge|diverg|stab/i)}${drawnNote(style)}`,
    spec: timePanels(`${exp.id}: training curves`, rows, used, style, { diverged, steps: true }),
  };
}
