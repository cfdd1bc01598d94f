/**
 * The spectral stage: Hessian spectra, trace, alignment, distance to the manifold and sharpness
 * at the checkpoints of one train run. Writes `spectra.csv` (one row per checkpoint, one column per
 * metric; tabulate turns it into a tidy table).
 * @module
 */
import * as aq from "arquero";
import { analyzePoint } from "../core/spectra/analyze.ts";
import { openObjective, resolveBackend } from "../core/setup.ts";
import { createF64Problem } from "../core/problems/registry.ts";
import { oracleFrom } from "../core/engine/oracle.ts";
import { logSpacedSteps } from "../core/optim/train.ts";
import { BACKEND_REQUESTS, type BackendRequest } from "../core/engine/types.ts";
import type { StageKind } from "../pipeline/stage.ts";
import { readCheckpoints, readDataset, readMeta, single, writeCsv } from "./artifacts.ts";
import { sourceFiles } from "./sources.ts";
import { datasetFor } from "./dataset.ts";
import { problemDim } from "../core/problems/registry.ts";

/** Spectral params: the experiment's `spectral` block plus the run's ρ and backend. */
interface SpectralParams {
  checkpoints?: "all" | "last" | number[];
  k?: number;
  m?: number;
  rho?: number;
  trace_probes?: number;
  exact_trace_up_to?: number;
  at_manifold?: boolean;
  per_sample?: boolean;
  mc_samples?: number;
  seed?: number;
  backend?: BackendRequest;
  manifold?: "flow" | "gauss-newton";
}

/** Upper bounds of the spectral block's counts: cost grows with each, no real analysis nears them. */
const MAX = { checkpoints: 10_000, k: 1000, probes: 100_000, exact: 10_000, mc: 1_000_000 };
const intIn = (v: unknown, lo: number, hi: number) =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** Keys of the spectral block and what each must be. */
const SPECTRAL_KEYS: Record<string, (v: unknown) => boolean> = {
  checkpoints: (v) =>
    v === "all" || v === "last" ||
    (Array.isArray(v) && v.length > 0 && v.length <= MAX.checkpoints &&
      v.every((s) => Number.isInteger(s) && s >= 0)),
  k: (v) => intIn(v, 1, MAX.k),
  m: (v) => intIn(v, 1, MAX.k),
  rho: (v) => typeof v === "number" && v >= 0,
  trace_probes: (v) => intIn(v, 1, MAX.probes),
  exact_trace_up_to: (v) => intIn(v, 0, MAX.exact),
  at_manifold: (v) => typeof v === "boolean",
  per_sample: (v) => typeof v === "boolean",
  mc_samples: (v) => intIn(v, 1, MAX.mc),
  seed: (v) => Number.isInteger(v),
  backend: (v) => BACKEND_REQUESTS.includes(v as BackendRequest),
  manifold: (v) => v === "flow" || v === "gauss-newton",
  experiment: (v) => typeof v === "string",
};

const EXPECTED: Record<string, string> = {
  checkpoints: `"all", "last" or a non-empty list of at most ${MAX.checkpoints} logged steps`,
  k: `an integer in [1, ${MAX.k}]`,
  m: `an integer in [1, ${MAX.k}]`,
  rho: "a number >= 0",
  trace_probes: `an integer in [1, ${MAX.probes}]`,
  exact_trace_up_to: `an integer in [0, ${MAX.exact}]`,
  at_manifold: "true or false",
  per_sample: "true or false",
  mc_samples: `an integer in [1, ${MAX.mc}]`,
  seed: "an integer",
  backend: "auto, f64, cpu, wasm or webgpu",
  manifold: "flow or gauss-newton",
  experiment: "a string",
};

/** Picks the checkpoints to analyse. */
export function chooseCheckpoints<T extends { step: number }>(
  all: readonly T[],
  which: SpectralParams["checkpoints"],
): T[] {
  if (which === undefined || which === "all") return [...all];
  if (which === "last") return all.slice(-1);
  const wanted = new Set(which);
  const chosen = all.filter((c) => wanted.has(c.step));
  const missing = which.filter((s) => !all.some((c) => c.step === s));
  if (missing.length > 0) {
    throw new Error(
      `checkpoints: no checkpoint at step(s) ${missing.join(", ")}; logged steps are ${
        all.map((c) => c.step).join(", ")
      }`,
    );
  }
  return chosen;
}

/** The spectral stage kind. */
export const spectralStage: StageKind = {
  kind: "spectral",
  // Version 2: stiff Φ, the Gauss–Newton estimate and the eigengap / rank / distance-split metrics.
  version: 2,
  sources: sourceFiles(
    "stages/spectral.ts",
    "stages/artifacts.ts",
    "core/engine",
    "core/problems",
    "core/spectra",
    "core/rng.ts",
    "core/setup.ts",
  ),
  async validate(params, upstream) {
    for (const [key, value] of Object.entries(params)) {
      const check = SPECTRAL_KEYS[key];
      if (!check) {
        const valid = Object.keys(SPECTRAL_KEYS).filter((k) => k !== "experiment").join(", ");
        throw new Error(`unknown key ${key} (valid: ${valid})`);
      }
      if (!check(value)) {
        throw new Error(`${key} must be ${EXPECTED[key]} (got ${JSON.stringify(value)})`);
      }
    }
    // Lanczos finds at most D eigenvalues, and λ_M needs M ≤ D.
    const dataset = await datasetFor(upstream.dataset[0]);
    const dim = problemDim(dataset);
    if (params.manifold === "gauss-newton" && !createF64Problem(dataset).residuals) {
      throw new Error(
        `manifold: gauss-newton needs a model with residuals (mlp, diagnet, sanity2d; got ${dataset.kind})`,
      );
    }
    for (const key of ["k", "m"]) {
      const v = params[key] as number | undefined;
      if (v !== undefined && v > dim) {
        throw new Error(`${key} must be at most D = ${dim}, the problem's dimension (got ${v})`);
      }
    }
    const run = upstream.train[0];
    const logged = logSpacedSteps(
      run.steps as number,
      (run.log_per_decade as number | undefined) ?? 10,
    );
    chooseCheckpoints(
      logged.map((step) => ({ step })),
      params.checkpoints as SpectralParams["checkpoints"],
    );
  },
  async runtime(params) {
    return (await resolveBackend((params.backend ?? "f64") as BackendRequest, {})).runtime;
  },
  runtimeParams: ["backend"],
  async run(ctx) {
    const p = ctx.params as SpectralParams;
    const dataset = await readDataset(ctx.inputs);
    const trained = single(ctx.inputs, "train");
    const logged = await readCheckpoints(trained);
    const { diverged } = await readMeta<{ diverged: string | null }>(trained);
    let which = p.checkpoints;
    if (diverged && Array.isArray(which)) {
      // A diverged run has no checkpoints past the divergence: analyse the ones it reached.
      which = which.filter((step) => logged.some((c) => c.step === step));
      ctx.log(
        `train run ${diverged}; analysing ${which.length} of ${p.checkpoints!.length} checkpoints`,
      );
    }
    const checkpoints = chooseCheckpoints(logged, which);
    const session = await openObjective(dataset, p.backend ?? "f64");
    // float32 HVPs cannot meet float64 tolerances: without these, Lanczos and Φ run to their caps.
    const float32 = session.backend !== "f64"
      ? { lanczosTol: 1e-4, phiGradTol: 1e-4, phiMaxSteps: 2000, phiStiffMaxSteps: 200 }
      : {};
    // The Gauss–Newton estimate of Φ and the Gram λ_M run in float64 whatever the engine.
    const f64 = createF64Problem(dataset);
    const residualModel = f64.residuals && f64.jacobian && f64.gaussNewtonScale !== undefined
      ? {
        model: {
          dim: f64.dim,
          numSamples: f64.numSamples,
          residuals: f64.residuals.bind(f64),
          jacobian: f64.jacobian.bind(f64),
        },
        scale: f64.gaussNewtonScale,
      }
      : undefined;
    const testLoss = f64.testLoss;
    const pointMetrics = testLoss || f64.pointMetrics
      ? (x: Float64Array) => ({
        ...(testLoss ? { test_loss: testLoss(x) } : {}),
        ...f64.pointMetrics?.(x),
      })
      : undefined;
    try {
      const oracle = oracleFrom(session.ops, session.objective);
      const rows: Record<string, number>[] = [];
      for (const [i, c] of checkpoints.entries()) {
        const metrics = await analyzePoint(oracle, c.params, {
          k: p.k,
          m: p.m,
          rho: p.rho,
          traceProbes: p.trace_probes,
          exactTraceUpTo: p.exact_trace_up_to,
          atManifold: p.at_manifold,
          perSample: p.per_sample,
          mcSamples: p.mc_samples,
          seed: p.seed ?? 0,
          residualModel,
          pointMetrics,
          phiVia: p.manifold,
          ...float32,
        });
        rows.push({ step: c.step, ...metrics });
        ctx.progress(i + 1, checkpoints.length, `step ${c.step}`);
      }
      oracle.dispose?.();
      await writeCsv(ctx, "spectra.csv", aq.from(rows));
    } finally {
      session.dispose();
    }
  },
};
