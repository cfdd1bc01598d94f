/**
 * The runs axis: R runs advanced together equal the R runs advanced alone — bit for bit on the
 * float64 engine (the axis performs each run's arithmetic in the same order), and on tfjs within
 * float32 rounding — for every optimizer, with per-run seeds, η, ρ and σ; a diverging run stops
 * being recorded without touching the others.
 */
import * as tf from "@tensorflow/tfjs";
import {
  assert,
  assertClose,
  assertEquals,
  assertRejects,
  assertThrows,
} from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import { F64RunsOps, loopedF64Objective } from "../engine/f64_runs.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { loopedTfObjective, TfRunsOps } from "../engine/tfjs_runs.ts";
import { createF64Problem, initialPoint, makeDataset } from "../problems/registry.ts";
import { createTfProblem } from "../problems/tf_registry.ts";
import { type RunPlan, train, trainRuns } from "./train.ts";
import { DIAG, OPTIMIZER_CASES, TOY } from "./testing/cases.ts";
import type { OptimizerSpec, TrainOptions, TrainResult } from "./types.ts";
import type { Objective } from "../engine/types.ts";

const toy = TOY;
const mlp = makeDataset({ kind: "mlp", n: 12, d: 3, hidden: 5, nTest: 0 }, { seed: 2 });

type Case = readonly [typeof toy, OptimizerSpec];
const CASES: Case[] = [
  ...OPTIMIZER_CASES,
  [mlp, { kind: "sam", lr: 0.05, rho: 0.05 }],
  [mlp, { kind: "1sam", lr: 0.05, rho: 0.05 }],
  [mlp, { kind: "label-noise-sgd", lr: 0.05, rho: 0, batch: 12, sigma: 0.2 }],
];

/** Three runs of `spec`: their own seeds, start points, η, ρ and σ. */
function plans(dataset: typeof toy, spec: OptimizerSpec, steps: number): RunPlan[] {
  return [0, 1, 2].map((r) => ({
    x0: dataset.kind === "toy4d"
      ? Float64Array.of(0.8 + 0.1 * r, 0.6, 0.3, 0.3 - 0.05 * r)
      : initialPoint(dataset, { seed: 10 + r, scale: 0.5 }),
    spec: {
      ...spec,
      lr: spec.lr * (1 + 0.25 * r),
      rho: spec.rho * (1 - 0.2 * r),
      ...(spec.sigma === undefined ? {} : { sigma: spec.sigma * (1 + r) }),
    },
    opts: { steps, seed: 7 * r + 1, logSteps: [0, 5, steps] } satisfies TrainOptions,
  }));
}

/** The runs together on the float64 runs axis. */
function f64Together(objective: Objective<Float64Array, number>, runs: RunPlan[]) {
  return trainRuns(
    new F64RunsOps(objective.dim, runs.length),
    loopedF64Objective(objective, runs.length),
    runs,
  );
}

/** Fails unless every result equals, bit for bit, its run trained alone on the float64 engine. */
async function assertEachAlone(
  objective: Objective<Float64Array, number>,
  runs: RunPlan[],
  together: TrainResult[],
): Promise<void> {
  for (const [r, run] of runs.entries()) {
    const alone = await train(new F64Ops(objective.dim), objective, run.x0, run.spec, run.opts);
    assertEquals(together[r], alone, `run ${r}`);
  }
}

for (const [dataset, spec] of CASES) {
  Deno.test(`runs axis f64 ${spec.kind} on ${dataset.kind}: 3 runs together = each alone, bit for bit`, async () => {
    const objective = createF64Problem(dataset);
    const runs = plans(dataset, spec, 40);
    const together = await trainRuns(
      new F64RunsOps(objective.dim, 3),
      loopedF64Objective(objective, 3),
      runs,
    );
    await assertEachAlone(objective, runs, together);
    assert(
      together[0].final.some((v, i) => v !== together[1].final[i]),
      "the runs differ from one another",
    );
  });
}

Deno.test("runs axis f64: a diverging run is stopped and named, the others run on unchanged", async () => {
  const objective = createF64Problem(toy);
  const spec: OptimizerSpec = { kind: "gd", lr: 0.05, rho: 0.1 };
  const runs = plans(toy, spec, 3000).map((p, r) =>
    r === 1 ? { ...p, spec: { ...p.spec, lr: 5 } } : p
  );
  const together = await f64Together(objective, runs);
  assert(together[1].diverged !== undefined, "run 1 diverges");
  await assertEachAlone(objective, runs, together);
});

Deno.test("runs axis f64: windows are per run and equal the unbatched windows", async () => {
  const objective = createF64Problem(toy);
  const reference = (x: Float64Array) =>
    Promise.resolve({ phi: x.map((v) => v * 0.9), v1: Float64Array.of(1, 0, 0, 0) });
  const runs = plans(toy, { kind: "1sam", lr: 0.05, rho: 0.1 }, 30).map((p) => ({
    ...p,
    opts: { ...p.opts, window: { at: [3, 10], length: 4, reference } },
  }));
  const together = await f64Together(objective, runs);
  for (const [r, run] of runs.entries()) {
    const alone = await train(new F64Ops(objective.dim), objective, run.x0, run.spec, run.opts);
    assertEquals(together[r].window, alone.window, `run ${r}`);
    assertEquals(alone.window.length, 8);
  }
});

Deno.test("runs axis: runs that differ in more than η, ρ, σ or in shared options are RangeErrors", async () => {
  const objective = createF64Problem(DIAG);
  const ops = new F64RunsOps(objective.dim, 2);
  const lifted = loopedF64Objective(objective, 2);
  const base = plans(DIAG, { kind: "sgd", lr: 0.02, rho: 0, batch: 3 }, 10).slice(0, 2);
  const batch = [base[0], { ...base[1], spec: { ...base[1].spec, batch: 4 } }];
  await assertRejects(() => trainRuns(ops, lifted, batch), /differ only in lr, rho and sigma/);
  const steps = [base[0], { ...base[1], opts: { ...base[1].opts, steps: 11 } }];
  await assertRejects(() => trainRuns(ops, lifted, steps), /differs from run 0/);
  await assertRejects(() => trainRuns(ops, lifted, base.slice(0, 1)), /1 runs given/);
  assertThrows(() => ops.coef([1]), /1 coefficients given for 2 runs/);
});

const tfCases = CASES.filter(([, s]) => ["sam", "1sam", "avg", "label-noise-sgd"].includes(s.kind));

Deno.test("runs axis tfjs cpu (rows of one [R, D] tensor): each run tracks its unbatched tfjs run, no leaks", async () => {
  const engine = await createTfEngine("cpu");
  for (const [dataset, spec] of tfCases) {
    const objective = createTfProblem(dataset);
    const runs = plans(dataset, spec, 30);
    const ops = new TfRunsOps(objective.dim, 3);
    const before = tf.memory().numTensors;
    const together = await trainRuns(ops, loopedTfObjective(objective, 3), runs);
    assertEquals(tf.memory().numTensors, before, `${spec.kind}: no tensors left behind`);
    for (const [r, run] of runs.entries()) {
      const alone = await train(engine.ops(objective.dim), objective, run.x0, run.spec, run.opts);
      assertEquals(
        together[r].rows.map((row) => row.sample),
        alone.rows.map((row) => row.sample),
        `${spec.kind} run ${r}: same draws`,
      );
      // Both are float32 runs of the same kernels on a row or a vector; 30 steps of rounding at
      // ~1e-7 relative bound the gap by 30·2⁻²³·max|x| with room to spare.
      const scale = alone.final.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      assertClose(together[r].final, alone.final, {
        rtol: 0,
        atol: 30 * 2 ** -23 * scale * 4,
        msg: `${spec.kind} run ${r}`,
      });
    }
    ops.close();
    objective.dispose?.();
  }
});
