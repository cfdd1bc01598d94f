/**
 * The train stage: runs one optimizer on the data set and writes the trajectory, the checkpoints
 * the spectral stage analyses, the run's metadata and, with a `window` field, `window.csv` (one
 * row per logged window step: start, step, proj, sign, sample, loss).
 *
 * With `runs_axis: true` the runs of one config entry (its sweep over seed, lr, rho and sigma)
 * advance together on the runs axis (core/optim/train.ts `trainRuns`): one tensor computation on
 * tfjs, each run's own arithmetic on float64. Each run still writes its own artifacts into its own
 * cache entry; a run computed alone (a single-stage rerun) computes its whole group again, since
 * on tfjs its float32 numbers depend on the group it was batched with.
 * @module
 */
import * as aq from "arquero";
import { openObjective, openRunsObjective, resolveBackend, type Session } from "../core/setup.ts";
import { probeWebGpu } from "../core/engine/backend.ts";
import { createF64Problem, initialPoint } from "../core/problems/registry.ts";
import {
  checkWindow,
  logSpacedSteps,
  type RunPlan,
  train,
  trainRuns,
  validateOptimizerSpec,
} from "../core/optim/train.ts";
import type { TrainOptions, TrainResult, WindowOptions } from "../core/optim/types.ts";
import type { Dataset } from "../core/problems/types.ts";
import { f64Engine } from "../core/engine/f64.ts";
import { oracleFrom } from "../core/engine/oracle.ts";
import { lanczos } from "../core/spectra/lanczos.ts";
import { hessianMatvec } from "../core/spectra/linalg.ts";
import { phi } from "../core/spectra/manifold.ts";
import { datasetFor } from "./dataset.ts";
import type { OptimizerKind, OptimizerSpec } from "../core/optim/types.ts";
import { BACKEND_REQUESTS, type BackendRequest } from "../core/engine/types.ts";
import { OPTIMIZER_KINDS } from "../core/optim/spec.ts";
import type { StageContext, StageKind } from "../pipeline/stage.ts";
import { type GroupSummary, groupSummary, type Json } from "../pipeline/config.ts";
import {
  readDataset,
  writeCheckpoints,
  writeCsv,
  writeGroupCheckpoints,
  writeGroupTable,
  writeJson,
} from "./artifacts.ts";
import { sourceFiles } from "./sources.ts";

/** Train-run params as the plan resolves them (after defaults and sweeps). */
interface TrainParams {
  optimizer: OptimizerKind;
  lr: number;
  rho?: number;
  steps: number;
  seed?: number;
  batch?: number;
  sigma?: number;
  inner_steps?: number;
  x0?: number[];
  init_scale?: number;
  backend?: BackendRequest;
  log_per_decade?: number;
  window?: { at: number[]; length: number };
  /** The summary of the run's group, when the entry advances on the runs axis. */
  runs_axis?: GroupSummary;
}

/** The fields the runs of one runs axis may differ in (the step's per-run coefficients, the seed). */
const RUNS_AXIS_FIELDS = ["seed", "lr", "rho", "sigma"];

/** Checks that a runs axis sweeps only the fields its runs may differ in. */
function checkRunsAxis(p: TrainParams): void {
  const other = (p.runs_axis?.fields ?? []).filter((k) => !RUNS_AXIS_FIELDS.includes(k));
  if (other.length > 0) {
    throw new RangeError(
      `runs_axis: the runs of one entry may differ only in ${
        RUNS_AXIS_FIELDS.join(", ")
      }; this entry sweeps ${other.join(", ")} (split it into entries)`,
    );
  }
}

/**
 * The params of the runs `ctxs` computes: one run, or every run of one runs axis in its order,
 * checked against the group's summary (which only the whole group, in order, matches).
 */
function groupRuns(ctxs: readonly StageContext[]): TrainParams[] {
  const runs = ctxs.map((c) => c.params as unknown as TrainParams);
  const axis = runs[0].runs_axis;
  if (axis === undefined) {
    if (runs.length !== 1) throw new Error("train: only a runs axis computes runs together");
    return runs;
  }
  checkRunsAxis(runs[0]);
  const got = groupSummary(axis.fields, runs as unknown as Record<string, Json>[]);
  if (got.runs !== axis.runs || got.values_sha256 !== axis.values_sha256) {
    throw new Error(
      `runs_axis: ${ctxs[0].id} belongs to a group of ${axis.runs} runs, which must be computed ` +
        `together and in order (given ${runs.length})`,
    );
  }
  return runs;
}

/** Optimizers whose steps use no random draw (a full batch, no random direction). */
const DETERMINISTIC: readonly OptimizerKind[] = ["gd", "sam", "usam", "asc-exact", "max"];

/**
 * What a run's params cannot change: a seed of a deterministic run from a given x0, one-sample or
 * minibatch methods that take the full batch (M = 1, or batch = M).
 */
function sweepNotes(p: TrainParams, numSamples: number): string[] {
  const notes: string[] = [];
  const fullBatch = (p.optimizer === "1sam" && numSamples === 1) ||
    (["sgd", "minibatch-sam"].includes(p.optimizer) && p.batch === numSamples);
  if (
    p.seed !== undefined && p.x0 !== undefined && (DETERMINISTIC.includes(p.optimizer) || fullBatch)
  ) {
    notes.push(`${p.optimizer} from a given x0 draws nothing at random: its seed cannot matter`);
  }
  if (p.optimizer === "1sam" && numSamples === 1) {
    notes.push("1sam on a data set with M = 1 sample takes SAM's step");
  }
  if (["sgd", "minibatch-sam"].includes(p.optimizer) && p.batch === numSamples) {
    notes.push(`${p.optimizer} with batch = M = ${numSamples} is full-batch (GD's or SAM's step)`);
  }
  return notes;
}

/** Checks a run's `window` field: a mapping { at, length } whose windows fit in the run. */
function windowField(p: TrainParams): { at: number[]; length: number } | undefined {
  const w = p.window as unknown;
  if (w === undefined) return undefined;
  if (w === null || typeof w !== "object" || Array.isArray(w)) {
    throw new RangeError(
      `window must be a mapping { at: [steps], length } (got ${JSON.stringify(w)})`,
    );
  }
  const extra = Object.keys(w).filter((k) => k !== "at" && k !== "length");
  if (extra.length > 0) throw new RangeError(`window: unknown key ${extra[0]} (valid: at, length)`);
  const { at, length } = w as { at: number[]; length: number };
  checkWindow({ at, length }, p.steps);
  return { at, length };
}

/**
 * Φ(x_s) (gradient flow, float64, ‖∇L‖ < 1e-10) and the top Hessian eigenvector v1 at x_s, on the
 * float64 problem whatever the run's engine: the reference of a step window.
 */
function windowReference(dataset: Dataset): WindowOptions["reference"] {
  const problem = createF64Problem(dataset);
  const oracle = oracleFrom(f64Engine.ops(problem.dim), problem);
  return async (x) => {
    const flow = await phi(oracle, x, { gradTol: 1e-10 });
    const eig = await lanczos(hessianMatvec(oracle, x), problem.dim, { k: 1, maxIter: 300 });
    return { phi: flow.x, v1: eig.vectors[0] };
  };
}

const samples = new WeakMap<Dataset, number>();

/** A data set's number of samples M, from its problem built once (a sweep checks 10⁴ runs on it). */
function numSamplesOf(dataset: Dataset): number {
  let m = samples.get(dataset);
  if (m === undefined) samples.set(dataset, m = createF64Problem(dataset).numSamples);
  return m;
}

/** The optimizer spec of a run's params. */
export function optimizerSpec(p: TrainParams): OptimizerSpec {
  return {
    kind: p.optimizer,
    lr: p.lr,
    rho: p.rho ?? 0,
    batch: p.batch,
    sigma: p.sigma,
    innerSteps: p.inner_steps,
  };
}

/** The train stage kind. */
export const trainStage: StageKind = {
  kind: "train",
  // Version 2: meta.json no longer holds the wall time (the manifest does), so equal runs give
  // byte-identical artifacts and downstream keys stay put.
  version: 2,
  sources: sourceFiles(
    "stages/train.ts",
    "stages/artifacts.ts",
    "core/engine",
    "core/optim",
    "core/problems",
    "core/spectra",
    "core/rng.ts",
    "core/setup.ts",
  ),
  async validate(params, upstream) {
    const p = params as unknown as TrainParams;
    if (!OPTIMIZER_KINDS.includes(p.optimizer)) {
      throw new RangeError(
        `optimizer must be one of ${OPTIMIZER_KINDS.join(", ")} (got ${
          JSON.stringify(p.optimizer)
        })`,
      );
    }
    if (p.backend !== undefined && !BACKEND_REQUESTS.includes(p.backend)) {
      throw new RangeError(
        `backend must be one of ${BACKEND_REQUESTS.join(", ")} (got ${JSON.stringify(p.backend)})`,
      );
    }
    const dataset = await datasetFor(upstream.dataset[0]);
    validateOptimizerSpec(optimizerSpec(p), numSamplesOf(dataset));
    windowField(p);
    checkRunsAxis(p);
    initialPoint(dataset, { seed: p.seed ?? 0, x0: p.x0, scale: p.init_scale });
  },
  async warnings(params, upstream) {
    const p = params as unknown as TrainParams;
    return sweepNotes(p, numSamplesOf(await datasetFor(upstream.dataset[0])));
  },
  async runtime(params) {
    return (await resolveBackend((params.backend ?? "auto") as BackendRequest, {})).runtime;
  },
  runtimeParams: ["backend"],
  // Optimizer steps: the scheduler starts the longest runs first.
  cost: (params) => Number(params.steps) || 0,
  run: (ctx) => trainGroup([ctx]),
  runGroup: (ctxs) => trainGroup(ctxs),
};

/**
 * Trains the runs of `ctxs` (one run, or members of one runs axis) and writes each one's artifacts.
 * On a runs axis every run of the axis is computed, whichever members were asked for.
 */
async function trainGroup(ctxs: readonly StageContext[]): Promise<void> {
  const members = groupRuns(ctxs);
  const p0 = members[0];
  const dataset = await readDataset(ctxs[0].inputs);
  const request = (p0.backend ?? "auto") as BackendRequest;
  const window = windowField(p0);
  const reference = window && windowReference(dataset);
  const plans: RunPlan[] = members.map((p, r) => {
    const seed = p.seed ?? 0;
    const opts: TrainOptions = {
      ...(window ? { window: { ...window, reference: reference! } } : {}),
      steps: p.steps,
      seed,
      logSteps: logSpacedSteps(p.steps, p.log_per_decade ?? 10),
      // One run's progress stands for the job's (the runs advance in lockstep).
      ...(r === 0
        ? {
          onLog: (row) => ctxs[0].progress(row.step, p.steps, `loss ${row.loss.toExponential(3)}`),
          onProgress: (step) => ctxs[0].progress(step, p.steps),
        }
        : {}),
    };
    return {
      x0: initialPoint(dataset, { seed, x0: p.x0, scale: p.init_scale }),
      spec: optimizerSpec(p),
      opts,
    };
  });
  const session: Session<unknown> = p0.runs_axis === undefined
    ? await openObjective(dataset, request) as Session<unknown>
    : await openRunsObjective(dataset, request, members.length);
  try {
    const results = p0.runs_axis === undefined
      ? [await train(session.ops, session.objective, plans[0].x0, plans[0].spec, plans[0].opts)]
      : await trainRuns(session.ops, session.objective, plans);
    const adapter = request === "auto" || request === "webgpu"
      ? (await probeWebGpu()).description
      : undefined;
    if (p0.runs_axis === undefined) await writeRun(ctxs[0], results[0], { session, adapter });
    else await writeGroup(ctxs, results, { session, adapter });
  } finally {
    session.dispose();
  }
}

/** The trajectory rows of runs as columns, with a leading `member` column when `member` is set. */
function trajectoryColumns(
  results: readonly TrainResult[],
  opts: { member: boolean },
): Record<string, unknown[]> {
  const cols: Record<string, unknown[]> = opts.member ? { member: [] } : {};
  for (const k of ["step", "tau", "loss", "grad_norm", "param_norm", "sample"]) cols[k] = [];
  // A loop, not a spread: a group of 10⁴ runs has more rows than a call takes arguments.
  let dim = 0;
  for (const r of results) for (const row of r.rows) dim = Math.max(dim, row.params?.length ?? 0);
  for (let i = 1; i <= dim; i++) cols[`x${i}`] = [];
  let n = 0;
  for (const [m, result] of results.entries()) {
    for (const r of result.rows) {
      cols.member?.push(m);
      cols.step.push(r.step);
      cols.tau.push(r.tau);
      cols.loss.push(r.loss);
      cols.grad_norm.push(r.gradNorm);
      cols.param_norm.push(r.paramNorm);
      cols.sample.push(r.sample);
      for (let i = 0; i < dim; i++) cols[`x${i + 1}`][n] = r.params?.[i];
      n++;
    }
  }
  for (let i = 1; i <= dim; i++) cols[`x${i}`].length = n;
  return cols;
}

/** What a run's meta.json holds besides its own fields (shared by a group's members). */
function sharedMeta(
  dim: number,
  opts: { session: Session<unknown>; adapter?: string },
): Record<string, unknown> {
  return {
    dim,
    backend: opts.session.backend,
    // What `auto` chose from (and what `webgpu` ran on); not probed for explicit CPU engines.
    ...(opts.adapter === undefined ? {} : { adapter: opts.adapter }),
    runtime: opts.session.runtime,
  };
}

/** A run's own meta fields. */
function ownMeta(result: TrainResult): Record<string, unknown> {
  return { diverged: result.diverged ?? null, steps_completed: result.rows.at(-1)?.step ?? 0 };
}

/** Writes one run's trajectory, checkpoints, window rows and meta.json. */
async function writeRun(
  ctx: StageContext,
  result: TrainResult,
  opts: { session: Session<unknown>; adapter?: string },
): Promise<void> {
  if (result.diverged) ctx.log(`diverged: ${result.diverged}`);
  const p = ctx.params as unknown as TrainParams;
  await writeCsv(ctx, "trajectory.csv", aq.table(trajectoryColumns([result], { member: false })));
  await writeCheckpoints(ctx, result.checkpoints);
  if (p.window) await writeCsv(ctx, "window.csv", aq.from(result.window));
  await writeJson(ctx, "meta.json", {
    ...sharedMeta(result.final.length, opts),
    ...ownMeta(result),
  });
}

/**
 * Writes the files of a runs axis's members once for the group (stages/artifacts.ts: a `member`
 * column, per-member checkpoint steps and meta fields), in the order of `ctxs`.
 */
async function writeGroup(
  ctxs: readonly StageContext[],
  results: readonly TrainResult[],
  opts: { session: Session<unknown>; adapter?: string },
): Promise<void> {
  const out = ctxs[0];
  results.forEach((r, m) => {
    if (r.diverged) ctxs[m].log(`${ctxs[m].id} diverged: ${r.diverged}`);
  });
  const p = out.params as unknown as TrainParams;
  await writeGroupTable(out, "trajectory", aq.table(trajectoryColumns(results, { member: true })));
  await writeGroupCheckpoints(out, results.map((r) => r.checkpoints));
  if (p.window) {
    const rows = results.flatMap((r, m) => r.window.map((w) => ({ member: m, ...w })));
    await writeGroupTable(out, "window", aq.from(rows));
  }
  await writeJson(out, "meta.json", {
    ...sharedMeta(results[0].final.length, opts),
    runs_axis: results.length,
    members: results.map(ownMeta),
  });
}
