/**
 * Tracking error against the limiting flow vs η, log–log, with fitted slopes (Thm 4.5, 5.4).
 * @module
 */
import { toy4dArgmins } from "../../../core/problems/toy4d.ts";
import {
  coordinateSeries,
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
} from "../tables.ts";
import { claimsSentence, experimentRuns, optimizersRun } from "./context.ts";
import type { Figure } from "./figure.ts";
import {
  byOptimizer,
  etaLogLogSpec,
  evenly,
  extent,
  groupBy,
  OPTIMIZER_COLORS,
  optimizersOf,
} from "./style.ts";
import { toyFamily } from "./toy.ts";

/** Names of the tracking-error column or metric a table may carry. */
const TRACKING = /(tracking_err(or)?|flow_err(or)?|track_err(or)?)$/;

/** Dots drawn at most (one per run). */
const MAX_DOTS = 400;

/** Name of the tracking error the report computes itself on the toy. */
const TOY_TRACKING = "‖X − X_flow(τ)‖";

interface TrackingRow {
  run: string;
  optimizer: string;
  lr: number;
  rho: number;
  seed: number;
  error: number;
}

/** Rows from whichever table carries a tracking error, else computed on the toy. */
function trackingRows(exp: ExperimentTables): { rows: TrackingRow[]; metric: string } | undefined {
  const wide: (readonly Row[])[] = [exp.summary, ...Object.values(exp.extra)];
  for (const rows of wide) {
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

/**
 * On the toy the flows are closed-form: with c the argmin of F1 (SAM) or of F1 + F2 (1-SAM),
 * X(τ) = c + (X(0) − c)·e^{−kτ}, k = 1 (SAM) or 1.5 (1-SAM). When no table carries a tracking
 * error, the error at the last checkpoint is computed from (x1, x2) — at Φ(x) when the spectra were
 * taken on the manifold, X(0) being the first checkpoint — provided some optimizer ran at two η.
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
  const [s1, s2] = onManifold
    ? [series(exp.spectra, "phi_x_1"), series(exp.spectra, "phi_x_2")]
    : [coordinateSeries(exp, 1), coordinateSeries(exp, 2)];
  const a = endpoints(s1), b = endpoints(s2);
  const rows = experimentRuns(exp)
    .filter((r) => r.optimizer in flows && a.has(r.run) && b.has(r.run))
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

/** Per optimizer, the error bound and slope the paper predicts. */
const TRACKING_THEORY: Readonly<Record<string, string>> = {
  sam: "SAM tracks the λ1 flow with error O(η ln(1/ρ)) (Thm 4.5: slope ≈ 1 in η at fixed ρ/η)",
  "1sam": "1-SAM tracks the Tr flow with error Õ(η^½ + ρ) (Thm 5.4)",
};

/** The tracking figure, when some table carries a tracking error (or the toy allows computing it). */
export function trackingFigure(exp: ExperimentTables): Figure | undefined {
  const found = trackingRows(exp);
  if (!found) return undefined;
  const { rows, metric } = found;
  const optimizers = optimizersOf(rows);
  const seeds = [...new Set(rows.map((r) => r.seed))].sort((p, q) => p - q);
  const color = {
    field: "optimizer",
    type: "nominal",
    title: "optimizer",
    scale: { domain: optimizers, range: optimizers.map((o) => OPTIMIZER_COLORS[o] ?? "#333333") },
  };
  const shape = seeds.length > 1 && seeds.length <= 7
    ? { shape: { field: "seed", type: "nominal", title: "seed", scale: { domain: seeds } } }
    : {};
  // The line is the mean over every run; a large sweep draws an evenly spaced subset as dots.
  const means = [...groupBy(rows, (r) => `${r.optimizer}\u0000${r.lr}`).values()].map((g) => ({
    optimizer: g[0].optimizer,
    lr: g[0].lr,
    error: mean(g.map((r) => r.error)),
  }));
  const dots = evenly(rows, MAX_DOTS);
  const spec = etaLogLogSpec({
    title: `${exp.id}: ${metric} vs η (dots: runs, line: mean over seeds)`,
    dots: dots as unknown as Record<string, unknown>[],
    means,
    y: { field: "error", title: metric },
    color,
    dotEncoding: shape,
  });
  const slopes = byOptimizer(rows).map(([o, rs]) => {
    const means = [...groupBy(rs, (r) => String(r.lr))].map(([, g]) =>
      [g[0].lr, mean(g.map((r) => r.error))] as const
    );
    const [lo, hi] = extent(means.map((m) => m[1]));
    return `${o} slope ${fmt(logLogSlope(means))} over ${means.length} η values (error ${fmt(lo)}–${
      fmt(hi)
    })`;
  });
  const theory = [...optimizersRun(exp)].map((o) => TRACKING_THEORY[o]).filter(Boolean);
  return {
    name: `${exp.id}-tracking`,
    title: `${exp.id}: tracking error against the limiting flow`,
    caption:
      (metric === TOY_TRACKING
        ? "Error computed here from (x1, x2) against the closed-form leading-order flow of the toy " +
          "(no finite-η correction). "
        : "") +
      `Theory: ${theory.length ? theory.join("; ") : "no tracking bound for these optimizers"}. ` +
      `Measured log–log slope of the mean error: ${slopes.join("; ")}.${
        claimsSentence(exp, /track|flow|error|slope/i)
      }${
        dots.length < rows.length
          ? ` ${dots.length} of ${rows.length} runs drawn as dots; the line is the mean over all.`
          : ""
      }`,
    spec,
  };
}
