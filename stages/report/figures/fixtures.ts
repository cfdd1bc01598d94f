/**
 * Synthetic experiment tables for the figure tests: a sweep of runs over a grid of (η, ρ, seed)
 * on the toy, with tidy trajectory, params and spectra rows and a wide summary.
 * @module
 */
import type { ExperimentTables, Row } from "../tables.ts";

/** Options of {@linkcode sweep}. */
export interface SweepOptions {
  /** Experiment id (default "sweep"). */
  readonly id?: string;
  /** Optimizer of every run (default "sam"). */
  readonly optimizer?: string;
  /** Learning rates swept. */
  readonly lrs?: readonly number[];
  /** Radii swept. */
  readonly rhos?: readonly number[];
  /** Seeds swept. */
  readonly seeds?: readonly number[];
  /** Logged steps (default 0, 10, 100, 1000). */
  readonly steps?: readonly number[];
  /** Dataset block (default the paper's toy). */
  readonly dataset?: Record<string, unknown>;
  /** Runs whose summary says they diverged. */
  readonly diverged?: readonly string[];
  /** Claims rows. */
  readonly claims?: readonly Row[];
}

/** The run name of a grid point. */
export function runName(optimizer: string, lr: number, rho: number, seed: number): string {
  return `${optimizer}-lr${lr}-rho${rho}-seed${seed}`;
}

/** Tables of a sweep over lrs × rhos × seeds; values are smooth functions of (η, ρ, step). */
export function sweep(options: SweepOptions = {}): ExperimentTables {
  const id = options.id ?? "sweep";
  const optimizer = options.optimizer ?? "sam";
  const steps = options.steps ?? [0, 10, 100, 1000];
  const diverged = new Set(options.diverged ?? []);
  const trajectory: Row[] = [], params: Row[] = [], spectra: Row[] = [], summary: Row[] = [];
  for (const lr of options.lrs ?? [0.01, 0.02]) {
    for (const rho of options.rhos ?? [0.01]) {
      for (const seed of options.seeds ?? [0]) {
        const run = runName(optimizer, lr, rho, seed);
        const keys = { experiment: id, run, optimizer, lr, rho, batch: null, seed };
        const bad = diverged.has(run);
        for (const step of steps) {
          const tau = lr * rho * rho * step;
          const f = step / steps[steps.length - 1];
          const loss = bad ? 1e10 * (f + 1e-3) : 0.5 * Math.exp(-5 * f) + lr * rho;
          trajectory.push({ ...keys, step, tau, metric: "loss", value: loss });
          trajectory.push({ ...keys, step, tau, metric: "grad_norm", value: Math.sqrt(loss) });
          params.push({ ...keys, step, tau, coordinate: 1, value: 1 - f * (1 - rho) });
          params.push({ ...keys, step, tau, coordinate: 2, value: 1 - f });
          spectra.push({ ...keys, step, tau, metric: "phi_lambda_1", value: 5 - f * rho * 10 });
          spectra.push({ ...keys, step, tau, metric: "phi_trace", value: 8 - f * rho * 10 });
          spectra.push({ ...keys, step, tau, metric: "cos_align", value: 0.5 + 0.5 * f });
        }
        summary.push({
          ...keys,
          backend: "f64",
          diverged: bad ? `diverged at step 10 (η = ${lr}, ρ = ${rho})` : null,
          loss: bad ? 1e10 : 0.5 * Math.exp(-5) + lr * rho,
          spectral_phi_trace: 8 - rho * 10,
          spectral_phi_lambda_1: 5 - rho * 10,
        });
      }
    }
  }
  return {
    id,
    dataset: options.dataset ?? { kind: "toy4d", family: "paper" },
    trajectory,
    params,
    spectra,
    summary,
    claims: options.claims ?? [],
    extra: {},
  };
}

/** Every `data.values` array of a vega-lite spec, however deeply nested. */
export function dataArrays(spec: unknown): Record<string, unknown>[][] {
  const out: Record<string, unknown>[][] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const data = o.data as { values?: unknown } | undefined;
      if (data && Array.isArray(data.values)) out.push(data.values as Record<string, unknown>[]);
      for (const [k, x] of Object.entries(o)) if (k !== "data") walk(x);
    }
  };
  walk(spec);
  return out;
}
