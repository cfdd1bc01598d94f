/**
 * Phase I of SAM on a quadratic (docs/theory.md §3, §4): the number of steps before the iterate
 * settles on the 2-cycle at distance ηρλ1/(2 − ηλ1), which the theory bounds by O(ln(1/ρ)/η).
 * @module
 */
import { samLimitNorm } from "../theory/quadratic.ts";
import { numberArg, selectRuns, series } from "./data.ts";
import { quadraticLambda1 } from "./sharpness.ts";
import { type Evaluator, Inconclusive } from "./types.ts";

/**
 * The first logged step from which ‖x‖ stays within a factor `band` of d = ηρλ1/(2 − ηλ1), or
 * `undefined` when the run never settles there.
 */
export function phase1End(
  steps: readonly { step: number; value: number }[],
  d: number,
  band: number,
): number | undefined {
  let end: number | undefined;
  for (const s of steps) {
    const inside = s.value >= d / band && s.value <= d * band;
    if (!inside) end = undefined;
    else if (end === undefined) end = s.step;
  }
  return end;
}

/**
 * `phase1_length` — args { runs, band? (default 2) }: per SAM run on a quadratic, t_I = the first
 * logged step from which ‖x‖ stays within a factor `band` of ηρλ1/(2 − ηλ1), in units of the
 * theorem's scale: t_I·η·λ_min/ln(1/ρ), with λ_min the smallest eigenvalue (GD's slowest
 * contraction sets the constant of O(ln(1/ρ)/η); docs/theory.md §3). One case: the largest value
 * over the runs, against the claim's bound. A run that never settles gives an infinite value, which
 * fails.
 */
export const phase1Length: Evaluator = (data, args, predicted) => {
  if (predicted === undefined) throw new TypeError("phase1_length: the claim must give predicted");
  const band = numberArg(args.band, "band", 2);
  if (!(band > 1)) throw new TypeError("claim argument band must be > 1");
  const lambda1 = quadraticLambda1(data);
  const lambdaMin = (data.dataset.params.eigenvalues as number[]).reduce(
    (m, v) => Math.min(m, v),
    Infinity,
  );
  const lengths = selectRuns(data, args.runs).map((r) => {
    const s = series(data.trajectory, r.run, "param_norm");
    if (s.length === 0) throw new Inconclusive(`no param_norm for run ${r.run}`);
    const end = phase1End(s, samLimitNorm(r.lr, r.rho, lambda1), band);
    return {
      run: r.run,
      n: end === undefined ? Infinity : end * r.lr * lambdaMin / Math.log(1 / r.rho),
    };
  });
  const worst = lengths.reduce((m, l) => Math.max(m, l.n), -Infinity);
  return [{
    label: `t_I·ηλ_min/ln(1/ρ): ${lengths.map((l) => `${l.run} ${l.n.toPrecision(3)}`).join(", ")}`,
    measured: Number.isFinite(worst) ? worst : Number.MAX_VALUE,
    predicted,
  }];
};
