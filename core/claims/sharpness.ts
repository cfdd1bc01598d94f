/**
 * Evaluators whose predictions are closed forms of core/theory/quadratic.ts: Theorem 4.8's limit
 * norm, SAM's distance to Γ, Corollary 4.6's sharpness, Table 1's sharpness notions on Γ and
 * USAM's stability threshold.
 * @module
 */
import { problemDim } from "../problems/registry.ts";
import {
  maxSharpnessFiniteEta,
  maxSharpnessOnFlow,
  samLimitNorm,
  usamStable,
} from "../theory/quadratic.ts";
import { atArg, matchesRun, metricAt, selectRuns, stringArg } from "./data.ts";
import { type ClaimData, type Evaluator, Inconclusive, type RunRecord } from "./types.ts";

/** λ1 of a quadratic data set (its largest eigenvalue). */
export function quadraticLambda1(data: ClaimData): number {
  const eig = data.dataset.params.eigenvalues;
  if (data.dataset.kind !== "quadratic" || !Array.isArray(eig)) {
    throw new TypeError(`needs a quadratic data set (got ${data.dataset.kind})`);
  }
  return (eig as number[]).reduce((m, v) => Math.max(m, v), -Infinity);
}

/**
 * `sam_limit_norm` — args { runs }: Theorem 4.8, ‖x‖ at the last step of each SAM run on a
 * quadratic vs ηρλ1/(2 − ηλ1).
 */
export const samLimitNormClaim: Evaluator = (data, args) => {
  const lambda1 = quadraticLambda1(data);
  return selectRuns(data, args.runs).map((r) => ({
    label: r.run,
    measured: metricAt(data, r.run, "param_norm"),
    predicted: samLimitNorm(r.lr, r.rho, lambda1),
  }));
};

/**
 * `sam_distance` — args { runs, at? }: ‖x − Φ(x)‖ vs ηρλ1/(2 − ηλ1) with λ1 = λ1(∇²L(Φ(x))) at the
 * same checkpoint (docs/theory.md §3, §5).
 */
export const samDistance: Evaluator = (data, args) => {
  const at = atArg(args.at);
  return selectRuns(data, args.runs).map((r) => ({
    label: r.run,
    measured: metricAt(data, r.run, "dist_to_manifold", at),
    predicted: samLimitNorm(r.lr, r.rho, metricAt(data, r.run, "phi_lambda_1", at)),
  }));
};

/**
 * `max_sharpness` — args { runs, at?, finite_eta? }: Corollary 4.6, R^Max_ρ(x) vs (ρ²/2)λ1(Φ(x));
 * with `finite_eta: true` vs the derived (ρ²/2)λ1(2 + ηλ1)/(2 − ηλ1).
 */
export const maxSharpness: Evaluator = (data, args) => {
  const at = atArg(args.at);
  return selectRuns(data, args.runs).map((r) => {
    const lambda1 = metricAt(data, r.run, "phi_lambda_1", at);
    return {
      label: r.run,
      measured: metricAt(data, r.run, "r_max", at),
      predicted: args.finite_eta === true
        ? maxSharpnessFiniteEta(r.lr, r.rho, lambda1)
        : maxSharpnessOnFlow(r.rho, lambda1),
    };
  });
};

/**
 * `sharpness_on_manifold` — args { runs, notion: "max" | "avg", rho?, at? }: Table 1 at a point of
 * Γ: R^Max = (ρ²/2)λ1 and R^Avg = (ρ²/(2D))Tr ∇²L, up to O(ρ³). ρ defaults to the run's.
 */
export const sharpnessOnManifold: Evaluator = (data, args) => {
  const notion = stringArg(args.notion, "notion");
  if (notion !== "max" && notion !== "avg") throw new TypeError(`notion must be max or avg`);
  const at = atArg(args.at);
  const dim = problemDim(data.dataset);
  return selectRuns(data, args.runs).map((r: RunRecord) => {
    const rho = typeof args.rho === "number" ? args.rho : r.rho;
    if (!(rho > 0)) throw new Inconclusive(`run ${r.run} has ρ = 0; give args.rho`);
    return notion === "max"
      ? {
        label: r.run,
        measured: metricAt(data, r.run, "r_max", at),
        predicted: rho * rho * metricAt(data, r.run, "lambda_1", at) / 2,
      }
      : {
        label: r.run,
        measured: metricAt(data, r.run, "r_avg", at),
        predicted: rho * rho * metricAt(data, r.run, "trace", at) / (2 * dim),
      };
  });
};

/**
 * `usam_stability` — args { runs }: on a quadratic, USAM converges to 0 iff ηλ1(1 + ρλ1) < 2. Per
 * run: measured 1 if it converged (not diverged and ‖x‖ shrank by 10⁶), else 0; predicted likewise
 * from the threshold. Diverged runs are evidence here, not missing data.
 */
export const usamStability: Evaluator = (data, args) => {
  const lambda1 = quadraticLambda1(data);
  const patterns = Array.isArray(args.runs) ? args.runs : [args.runs];
  const runs = data.runs.filter((r) => patterns.some((p) => matchesRun(r.run, String(p))));
  if (runs.length === 0) throw new Inconclusive(`no run matches ${patterns.join(", ")}`);
  return runs.map((r) => {
    let converged = 0;
    if (r.diverged === "") {
      const first = metricAt(data, r.run, "param_norm", "first");
      const last = metricAt(data, r.run, "param_norm", "last");
      converged = last <= 1e-6 * first ? 1 : 0;
    }
    return {
      label: r.run,
      measured: converged,
      predicted: usamStable(r.lr, r.rho, lambda1) ? 1 : 0,
    };
  });
};

/**
 * `sharpness_ratio` — args { runs, sharpness, spectral, factor? (default ½), at?, rho? }: the
 * limiting-regularizer ratio R/(ρ²·factor·q) of a sharpness metric (`r_asc`, `r_max`,
 * `r_max_sample_mean`) to a spectral quantity q (`phi_lambda_m`, `phi_lambda_1`, `phi_trace`) at the
 * same checkpoint, per run (predicted 1, e.g. R^Asc/ρ² → λ_M/2 along GD on L^Asc).
 */
export const sharpnessRatio: Evaluator = (data, args) => {
  const sharpness = stringArg(args.sharpness, "sharpness");
  const spectral = stringArg(args.spectral, "spectral");
  const factor = typeof args.factor === "number" ? args.factor : 0.5;
  const at = atArg(args.at);
  return selectRuns(data, args.runs).map((r) => {
    const rho = typeof args.rho === "number" ? args.rho : r.rho;
    if (!(rho > 0)) throw new Inconclusive(`run ${r.run} has ρ = 0; give args.rho`);
    const q = metricAt(data, r.run, spectral, at);
    return {
      label: r.run,
      measured: metricAt(data, r.run, sharpness, at) / (rho * rho * factor * q),
      predicted: 1,
    };
  });
};
