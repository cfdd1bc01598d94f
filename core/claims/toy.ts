/**
 * Evaluators on the 4-D toy (docs/theory.md §7): endpoints against the argmins of λ1, λ_M and Tr,
 * tracking error against the SAM / 1-SAM flows of core/theory, and GD's stop at Φ(x0).
 * @module
 */
import type { Toy4dFamily } from "../problems/toy4d.ts";
import {
  toyCoefficients,
  toyOneSamFlow,
  toyPhi,
  toySamFlow,
  toyTargets,
} from "../theory/toy4d_flows.ts";
import { maxSharpnessFiniteEta } from "../theory/quadratic.ts";
import { meanStd, metricAt, selectRuns, series, stringArg, valueAt } from "./data.ts";
import { logLogSlope } from "./generic.ts";
import {
  type ClaimCase,
  type ClaimData,
  type Evaluator,
  Inconclusive,
  type RunRecord,
} from "./types.ts";

function family(data: ClaimData): Toy4dFamily {
  if (data.dataset.kind !== "toy4d") {
    throw new TypeError(`needs a toy4d data set (got ${data.dataset.kind})`);
  }
  return (data.dataset.params.family ?? "paper") as Toy4dFamily;
}

/** (x1, x2) of a run's last logged step. */
function endpoint(data: ClaimData, run: string): [number, number] {
  return [metricAt(data, run, "x1"), metricAt(data, run, "x2")];
}

function x0Of(r: RunRecord): readonly number[] {
  if (!r.x0 || r.x0.length !== 4) throw new Inconclusive(`run ${r.run} has no 4-D x0`);
  return r.x0;
}

/**
 * `toy_endpoint` — args { runs, target: "lambda1" | "lambdaM" | "trace" }: distance of each run's
 * final (x1, x2) to the argmin on Γ of that spectral quantity (predicted 0).
 */
export const toyEndpoint: Evaluator = (data, args) => {
  const t = targetOf(data, stringArg(args.target, "target"));
  return selectRuns(data, args.runs).map((r) => {
    const [a, b] = endpoint(data, r.run);
    return { label: r.run, measured: Math.hypot(a - t[0], b - t[1]), predicted: 0 };
  });
};

/** ‖X(τ_end) − flow(Φ(x0), τ_end)‖ of one run. */
function flowError(data: ClaimData, r: RunRecord, flow: string, corrected: boolean): number {
  const fam = family(data);
  const X0 = toyPhi(fam, x0Of(r)).slice(0, 2);
  const tau = valueAt(data.trajectory, r.run, "x1").tau;
  const opts = corrected ? { lr: r.lr } : {};
  const pred = flow === "sam"
    ? toySamFlow(fam, X0, tau, opts)
    : flow === "1sam"
    ? toyOneSamFlow(fam, X0, tau, opts)
    : (() => {
      throw new TypeError(`claim argument flow must be sam or 1sam (got ${flow})`);
    })();
  const [a, b] = endpoint(data, r.run);
  return Math.hypot(a - pred[0], b - pred[1]);
}

/** One run's tracking error against its limiting flow, uncorrected and finite-η corrected. */
export interface TrackingRow {
  /** Run name. */
  readonly run: string;
  /** Which flow: `sam` (λ1) or `1sam` (Tr). */
  readonly flow: string;
  /** ‖X(τ_end) − flow(Φ(x0), τ_end)‖ against the η → 0 flow. */
  readonly tracking_error: number;
  /** The same against the flow with the finite-η factor. */
  readonly tracking_error_corrected: number;
}

/**
 * Tracking errors of every run that a `toy_flow_error` claim covers, as the claims compute them
 * (one row per run and flow), for the `tracking.csv` table and its figure.
 */
export function toyTrackingErrors(
  data: ClaimData,
  claims: readonly { metric: string; args: Readonly<Record<string, unknown>> }[],
): TrackingRow[] {
  const out = new Map<string, TrackingRow>();
  for (const c of claims) {
    if (c.metric !== "toy_flow_error") continue;
    const flow = stringArg(c.args.flow, "flow");
    for (const r of selectRuns(data, c.args.runs)) {
      out.set(`${r.run}\u0000${flow}`, {
        run: r.run,
        flow,
        tracking_error: flowError(data, r, flow, false),
        tracking_error_corrected: flowError(data, r, flow, true),
      });
    }
  }
  return [...out.values()];
}

/** Error bounds of the theorems, with constant 1 (their O(·) constants are not given). */
function bound(name: unknown, r: RunRecord): number {
  if (name === "lr_log_inv_rho") return r.lr * Math.log(1 / r.rho); // Theorem 4.5: O(η ln(1/ρ))
  if (name === "sqrt_lr_plus_rho") return Math.sqrt(r.lr) + r.rho; // Theorem 5.4: Õ(η^½ + ρ)
  throw new TypeError(`claim argument bound must be lr_log_inv_rho or sqrt_lr_plus_rho`);
}

/**
 * `toy_flow_error` — args { runs, flow: "sam" | "1sam", corrected?, bound? }: the distance between
 * the final (x1, x2) and the flow integrated from Φ(x0) to the run's final τ (with the finite-η
 * correction when `corrected`). Runs sharing η and ρ (seeds) form one case: the mean, spread =
 * std. Predicted: the named error bound of the theorem at that (η, ρ), else the claim's constant.
 */
export const toyFlowError: Evaluator = (data, args, predicted) => {
  const flow = stringArg(args.flow, "flow");
  const groups = new Map<string, { r: RunRecord; errs: number[] }>();
  for (const r of selectRuns(data, args.runs)) {
    const key = `lr=${r.lr} rho=${r.rho}`;
    const g = groups.get(key) ?? { r, errs: [] };
    g.errs.push(flowError(data, r, flow, args.corrected === true));
    groups.set(key, g);
  }
  return [...groups].map(([label, g]): ClaimCase => {
    const { mean, std } = meanStd(g.errs);
    const p = args.bound !== undefined ? bound(args.bound, g.r) : predicted;
    if (p === undefined) throw new TypeError("toy_flow_error: give args.bound or predicted");
    return { label: `${label} (${g.errs.length} runs)`, measured: mean, predicted: p, spread: std };
  });
};

/**
 * `toy_flow_slope` — args { runs, flow, corrected?, x? }: the log–log slope of the flow tracking
 * error (mean over seeds) against η (or ρ), against the claim's predicted order.
 */
export const toyFlowSlope: Evaluator = (data, args, predicted) => {
  if (predicted === undefined) throw new TypeError("toy_flow_slope: the claim must give predicted");
  const flow = stringArg(args.flow, "flow");
  const byName = new Map(data.runs.map((r) => [r.run, r]));
  return [logLogSlope(
    data,
    args,
    predicted,
    (run) => flowError(data, byName.get(run)!, flow, args.corrected === true),
  )];
};

/** `toy_gd_stays` — args { runs }: distance of the final (x1, x2) to Φ(x0) (predicted 0). */
export const toyGdStays: Evaluator = (data, args) =>
  selectRuns(data, args.runs).map((r) => {
    const phi = toyPhi(family(data), x0Of(r));
    const [a, b] = endpoint(data, r.run);
    return { label: r.run, measured: Math.hypot(a - phi[0], b - phi[1]), predicted: 0 };
  });

/** The argmin of `target` (lambda1 | lambdaM | trace) on Γ. */
function targetOf(data: ClaimData, target: string): [number, number] {
  const targets = toyTargets(family(data)) as unknown as Record<string, [number, number]>;
  const t = targets[target];
  if (!t) throw new TypeError(`claim argument target must be lambda1, lambdaM or trace`);
  return t;
}

/**
 * `toy_endpoint_slope` — args { runs, target, x? (default lr), conservative? }: the log–log slope
 * of the endpoint's distance to the argmin of `target` against η (mean over the runs sharing an η:
 * starts, ρ). With `conservative: true` the measured value is slope − 2·SE, for an `at_least` claim
 * that the distance falls as η falls.
 */
export const toyEndpointSlope: Evaluator = (data, args, predicted) => {
  if (predicted === undefined) {
    throw new TypeError("toy_endpoint_slope: the claim must give predicted");
  }
  const t = targetOf(data, stringArg(args.target, "target"));
  const c = logLogSlope(data, args, predicted, (run) => {
    const [a, b] = endpoint(data, run);
    return Math.hypot(a - t[0], b - t[1]);
  });
  if (args.conservative !== true) return [c];
  return [{
    ...c,
    label: `slope ${c.measured.toPrecision(3)} ± ${c.spread!.toPrecision(2)} (SE); ${c.label}`,
    measured: c.measured - 2 * c.spread!,
  }];
};

/**
 * `toy_sharpness_flow` — args { runs, sharpness: "r_max" | "r_max_sample_mean", flow: "sam" |
 * "1sam", finite_eta?, from_tau? }: at every analysed checkpoint with τ ≥ from_tau, the sharpness
 * against its value on the limiting flow X(τ) started at Φ(x0): (ρ²/2)λ1(X) = (ρ²/2)F1(X) for SAM
 * (Corollary 4.6; with `finite_eta` times (2 + ηλ1)/(2 − ηλ1), the 2-cycle's offset), (ρ²/2)Tr(X) =
 * (ρ²/2)(F1 + F2)(X) for 1-SAM's mean per-sample worst-direction sharpness (Theorem 5.3). Per run:
 * measured = the largest relative deviation over the checkpoints, predicted 0.
 */
export const toySharpnessFlow: Evaluator = (data, args) => {
  const fam = family(data);
  const c = toyCoefficients(fam);
  const sharpness = stringArg(args.sharpness, "sharpness");
  const flow = stringArg(args.flow, "flow");
  if (flow !== "sam" && flow !== "1sam") {
    throw new TypeError(`claim argument flow must be sam or 1sam`);
  }
  const fromTau = typeof args.from_tau === "number" ? args.from_tau : 0;
  return selectRuns(data, args.runs).map((r): ClaimCase => {
    const X0 = toyPhi(fam, x0Of(r)).slice(0, 2);
    const points = series(data.spectra, r.run, sharpness).filter((p) => p.tau >= fromTau);
    if (points.length === 0) {
      throw new Inconclusive(`no ${sharpness} of run ${r.run} at τ ≥ ${fromTau}`);
    }
    let worst = 0, worstTau = 0;
    for (const p of points) {
      const X = flow === "sam" ? toySamFlow(fam, X0, p.tau) : toyOneSamFlow(fam, X0, p.tau);
      const q = flow === "sam" ? c.f1(X) : c.f1(X) + c.f2(X);
      const pred = flow === "sam" && args.finite_eta === true
        ? maxSharpnessFiniteEta(r.lr, r.rho, q)
        : r.rho * r.rho * q / 2;
      const dev = Math.abs(p.value / pred - 1);
      if (!(dev <= worst)) [worst, worstTau] = [dev, p.tau];
    }
    return {
      label: `${r.run}: ${points.length} checkpoints, worst at τ = ${worstTau.toPrecision(3)}`,
      measured: worst,
      predicted: 0,
    };
  });
};
