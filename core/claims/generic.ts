/**
 * Evaluators that compare a measured metric with a constant prediction given in the claim:
 * final values, changes along a run, ratios to a baseline run of the same seed, and log–log slopes.
 * @module
 */
import {
  atArg,
  fitSlope,
  meanStd,
  metricAt,
  numberArg,
  pointAt,
  selectRuns,
  stringArg,
} from "./data.ts";
import { type ClaimCase, type ClaimData, type Evaluator, Inconclusive } from "./types.ts";

/** The constant prediction a claim must supply for these evaluators. */
function need(predicted: number | undefined, metric: string): number {
  if (predicted === undefined) throw new TypeError(`${metric}: the claim must give predicted`);
  return predicted;
}

/** Optional transform of a value: `angle` = arccos(min(1, v)) in radians, `abs` = |v|. */
function transform(v: number, how: unknown): number {
  if (how === undefined) return v;
  if (how === "angle") return Math.acos(Math.min(1, v));
  if (how === "abs") return Math.abs(v);
  throw new TypeError(
    `claim argument transform must be "angle" or "abs" (got ${JSON.stringify(how)})`,
  );
}

/** Cases per run, or (with `aggregate: "mean"`) one case: the mean over runs, spread = std. */
function aggregate(
  values: { label: string; value: number }[],
  predicted: number,
  how: unknown,
): ClaimCase[] {
  if (how === undefined) {
    return values.map((v) => ({ label: v.label, measured: v.value, predicted }));
  }
  if (how !== "mean") throw new TypeError(`claim argument aggregate must be "mean"`);
  const { mean, std } = meanStd(values.map((v) => v.value));
  return [{ label: `mean of ${values.length} runs`, measured: mean, predicted, spread: std }];
}

/**
 * `final_value` — args { runs, metric, at?, transform?, aggregate?, scale_by? }: the metric of each
 * selected run at checkpoint `at` (default last) against the claim's `predicted`; with
 * `scale_by: "rho"` (or "lr") the prediction is `predicted` times the run's ρ (or η), per run.
 */
export const finalValue: Evaluator = (data, args, predicted) => {
  const p = need(predicted, "final_value");
  const metric = stringArg(args.metric, "metric");
  const at = atArg(args.at);
  const runs = selectRuns(data, args.runs);
  const values = runs.map((r) => ({
    label: r.run,
    value: transform(metricAt(data, r.run, metric, at), args.transform),
  }));
  if (args.scale_by === undefined) return aggregate(values, p, args.aggregate);
  const by = stringArg(args.scale_by, "scale_by");
  if (by !== "rho" && by !== "lr") throw new TypeError(`claim argument scale_by must be rho or lr`);
  return values.map((v, i) => ({ label: v.label, measured: v.value, predicted: p * runs[i][by] }));
};

/**
 * `relative_change` — args { runs, metric, from? (default "first"), to? (default "last"),
 * aggregate? }: (q_to − q_from)/|q_from| per run.
 */
export const relativeChange: Evaluator = (data, args, predicted) => {
  const p = need(predicted, "relative_change");
  const metric = stringArg(args.metric, "metric");
  const from = atArg(args.from ?? "first", "from"), to = atArg(args.to, "to");
  const values = selectRuns(data, args.runs).map((r) => {
    const a = metricAt(data, r.run, metric, from), b = metricAt(data, r.run, metric, to);
    if (a === 0) throw new Inconclusive(`${metric} of ${r.run} is 0 at the start`);
    return { label: r.run, value: (b - a) / Math.abs(a) };
  });
  return aggregate(values, p, args.aggregate);
};

/**
 * `ratio_to_baseline` — args { runs, baseline, metric, at? }: metric(run)/metric(baseline run of
 * the same seed) at checkpoint `at`; one case per matched pattern, the mean over seeds (spread =
 * std over seeds).
 */
export const ratioToBaseline: Evaluator = (data, args, predicted) => {
  const p = need(predicted, "ratio_to_baseline");
  const metric = stringArg(args.metric, "metric");
  const at = atArg(args.at);
  const base = selectRuns(data, args.baseline);
  const ratios = selectRuns(data, args.runs).map((r) => {
    const b = base.find((x) => x.seed === r.seed);
    if (!b) throw new Inconclusive(`no baseline run with seed ${r.seed} for ${r.run}`);
    return metricAt(data, r.run, metric, at) / metricAt(data, b.run, metric, at);
  });
  const { mean, std } = meanStd(ratios);
  return [{ label: `mean over ${ratios.length} seeds`, measured: mean, predicted: p, spread: std }];
};

/**
 * `slope` — args { runs, x: "lr" | "rho", metric, transform?, at? }: the least-squares slope of
 * log|y| on log x, y averaged over the runs sharing an x (seeds); spread = the slope's standard error.
 */
export const slope: Evaluator = (data, args, predicted) => {
  const p = need(predicted, "slope");
  return [logLogSlope(
    data,
    args,
    p,
    (run) =>
      transform(
        metricAt(data, run, stringArg(args.metric, "metric"), atArg(args.at)),
        args.transform,
      ),
  )];
};

/** Shared by slope evaluators: group runs by x (lr or rho), average y, fit in log–log. */
export function logLogSlope(
  data: ClaimData,
  args: Readonly<Record<string, unknown>>,
  predicted: number,
  y: (run: string) => number,
): ClaimCase {
  const xName = stringArg(args.x ?? "lr", "x");
  if (xName !== "lr" && xName !== "rho") throw new TypeError(`claim argument x must be lr or rho`);
  const groups = new Map<number, number[]>();
  for (const r of selectRuns(data, args.runs)) {
    const xv = numberArg(r[xName], xName);
    groups.set(xv, [...(groups.get(xv) ?? []), y(r.run)]);
  }
  const xs = [...groups.keys()].sort((a, b) => a - b);
  const ys = xs.map((x) => meanStd(groups.get(x)!).mean);
  if (ys.some((v) => !(Math.abs(v) > 0))) throw new Inconclusive("a log–log slope needs y ≠ 0");
  const fit = fitSlope(xs.map(Math.log), ys.map((v) => Math.log(Math.abs(v))));
  return {
    label: `${xs.length} values of ${xName}: ${ys.map((v) => v.toPrecision(3)).join(", ")}`,
    measured: fit.slope,
    predicted,
    spread: fit.se,
  };
}

/**
 * `rate_slope` — args { runs, metric, x? (default lr), from? (default "first"), to? }: the
 * log–log slope against η (or ρ) of each run's drift rate |q_to − q_from|/(t_to − t_from) per step
 * (mean over seeds sharing an x). A method whose slow time scale is η⁻¹ρ⁻² steps has slope 1 in η
 * at fixed ρ; one on η⁻² steps (label-noise SGD) has slope 2.
 */
export const rateSlope: Evaluator = (data, args, predicted) => {
  const p = need(predicted, "rate_slope");
  const metric = stringArg(args.metric, "metric");
  const from = atArg(args.from ?? "first", "from"), to = atArg(args.to, "to");
  return [logLogSlope(data, args, p, (run) => {
    const a = pointAt(data, run, metric, from), b = pointAt(data, run, metric, to);
    if (b.step <= a.step) throw new Inconclusive(`run ${run}: needs two checkpoints of ${metric}`);
    return Math.abs(b.value - a.value) / (b.step - a.step);
  })];
};
