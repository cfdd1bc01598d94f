/**
 * The MLPs' runs-axis objectives against the unbatched tfjs objectives (tf_mlp.ts, tf_mlp3.ts,
 * themselves tested against float64 in tf_mlp3_test.ts and tf_registry_test.ts) row by row: each
 * run's loss, gradient, HVP and label-noise gradient, and the fused SAM steps against the generic
 * step composed from the runs-axis gradients. On the cpu backend, then on wasm (tfjs has one global
 * backend, so each section's tests switch to theirs and run in order).
 *
 * Tolerance: both sides compute the same sums in float32 in different orders (batched kernels,
 * stacked layers), so entries differ by rounding only: with u = 2⁻²⁴ and the longest chain of sums
 * T = n(d + h) terms per entry, a random-walk bound gives |Δ| ≲ c·u·√T·‖row‖∞; c = 16 leaves
 * room for the HVP's three chained sums and stays ≈ 1e-5 relative at these sizes, well below a
 * wrong term (which shows as an O(1) relative error).
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { TfRunsOps, type TfRunsVec } from "../engine/tfjs_runs.ts";
import type { Batch } from "../engine/types.ts";
import { Rng } from "../rng.ts";
import { initialPoint, makeDataset } from "./registry.ts";
import { createTfProblem } from "./tf_registry.ts";
import { tfMlp3Runs, tfMlpRuns } from "./tf_mlp_runs.ts";
import type { Dataset } from "./types.ts";
import { toF32 } from "./tf_testing.ts";

const U = 2 ** -24;
const N = 12, DIN = 3, HID = 5;

function dataset(depth: 2 | 3, activation: "tanh" | "softplus", d = DIN): Dataset {
  return makeDataset(
    { kind: "mlp", n: N, d, hidden: HID, activation, depth, nTest: 0 },
    { seed: 4 },
  );
}

/** Run r's float32 start point: the seeded initial point, moved off it (nonzero biases). */
function startPoints(ds: Dataset, runs: number): Float64Array {
  const rows = Array.from({ length: runs }, (_, r) => {
    const rng = new Rng(100 + r);
    return initialPoint(ds, { seed: r }).map((v) => v + 0.3 * rng.normal());
  });
  const D = rows[0].length, x = new Float64Array(runs * D);
  rows.forEach((row, r) => x.set(row, r * D));
  return toF32(x);
}

/** Per-run batches of b indices, different for each run (run-major). */
function batchOf(runs: number, b: number): Int32Array {
  return Int32Array.from({ length: runs * b }, (_, i) => (7 * i + 3 * Math.floor(i / b)) % N);
}

/** Max over entries of |got − want| / max(‖want row‖∞, floor) for each row of D entries. */
function rowErrors(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  D: number,
  floor = 0,
): number[] {
  const errs: number[] = [];
  for (let r = 0; r * D < want.length; r++) {
    let scale = 0, err = 0;
    for (let i = r * D; i < (r + 1) * D; i++) scale = Math.max(scale, Math.abs(want[i]));
    for (let i = r * D; i < (r + 1) * D; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    errs.push(err / (Math.max(scale, floor) || 1));
  }
  return errs;
}

function assertRows(got: ArrayLike<number>, want: ArrayLike<number>, D: number, msg: string) {
  assertEquals(got.length, want.length, msg);
  const tol = 16 * U * Math.sqrt(N * (DIN + HID));
  rowErrors(got, want, D).forEach((e, r) => assert(e <= tol, `${msg}: run ${r} error ${e}`));
}

/** The unbatched objective's results on every row, stacked (the oracle). */
async function unbatched(
  ds: Dataset,
  runs: number,
  what: (o: ReturnType<typeof createTfProblem>, x: Float64Array, r: number) => Promise<number[]>,
  x: Float64Array,
): Promise<Float64Array> {
  const objective = createTfProblem(ds), D = objective.dim, out: number[] = [];
  for (let r = 0; r < runs; r++) {
    out.push(...await what(objective, x.subarray(r * D, (r + 1) * D), r));
  }
  objective.dispose?.();
  return Float64Array.from(out);
}

const part = (batch: Batch, runs: number, r: number): Batch =>
  batch && batch.subarray(r * batch.length / runs, (r + 1) * batch.length / runs);

for (const backend of ["cpu", "wasm"] as const) {
  for (const depth of [2, 3] as const) {
    for (const activation of ["tanh", "softplus"] as const) {
      Deno.test(`mlp runs depth ${depth} ${activation} on ${backend}: each row equals the unbatched objective`, async () => {
        const engine = await createTfEngine(backend);
        const ds = dataset(depth, activation);
        for (const R of [1, 3]) {
          const x = startPoints(ds, R);
          const objective = depth === 2 ? tfMlpRuns(ds, R) : tfMlp3Runs(ds, R);
          const D = objective.dim, ops = new TfRunsOps(D, R), ops1 = engine.ops(D);
          assertEquals([objective.runs, objective.numSamples, x.length], [R, N, R * D]);
          const v = toF32(new Rng(9).fillNormal(new Float64Array(R * D)));
          const xv = ops.fromF64(x), vv = ops.fromF64(v), out = ops.zeros();
          const before = tf.memory().numTensors;
          for (const batch of [undefined, batchOf(R, 1), batchOf(R, 4)]) {
            const label = `R ${R} batch ${batch ? batch.length / R : "full"}`;
            const s = objective.loss(xv, batch);
            const loss = await ops.readRuns(s);
            ops.disposeScalar(s);
            const wantLoss = await unbatched(ds, R, async (o, xr, r) => {
              const xo = ops1.fromF64(xr), sr = o.loss(xo, part(batch, R, r));
              const value = await ops1.read(sr);
              sr.dispose();
              ops1.dispose(xo);
              return [value];
            }, x);
            assertRows(loss, wantLoss, 1, `${label} loss`);
            objective.grad(xv, out, batch);
            const want = await unbatched(ds, R, async (o, xr, r) => {
              const xo = ops1.fromF64(xr), g = ops1.zeros();
              o.grad(xo, g, part(batch, R, r));
              const res = Array.from(await ops1.toF64(g));
              ops1.dispose(xo);
              ops1.dispose(g);
              return res;
            }, x);
            assertRows(await ops.toF64(out), want, D, `${label} grad`);
            objective.hvp(xv, vv, out, batch);
            const wantH = await unbatched(ds, R, async (o, xr, r) => {
              const xo = ops1.fromF64(xr), vo = ops1.fromF64(v.subarray(r * D, (r + 1) * D));
              const hv = ops1.zeros();
              o.hvp(xo, vo, hv, part(batch, R, r));
              const res = Array.from(await ops1.toF64(hv));
              [xo, vo, hv].forEach((t) => ops1.dispose(t));
              return res;
            }, x);
            assertRows(await ops.toF64(out), wantH, D, `${label} hvp`);
          }
          const batch = batchOf(R, 4);
          const noise = toF32(Float64Array.from(batch, (_, i) => 0.3 * Math.sin(i + 1)));
          objective.labelNoiseGrad!(xv, out, batch, noise);
          const want = await unbatched(ds, R, async (o, xr, r) => {
            const xo = ops1.fromF64(xr), g = ops1.zeros();
            o.labelNoiseGrad!(xo, g, part(batch, R, r)!, noise.subarray(4 * r, 4 * r + 4));
            const res = Array.from(await ops1.toF64(g));
            ops1.dispose(xo);
            ops1.dispose(g);
            return res;
          }, x);
          assertRows(await ops.toF64(out), want, D, `R ${R} labelNoiseGrad`);
          assertEquals(tf.memory().numTensors, before, `R ${R}: no tensors left behind`);
          [xv, vv, out].forEach((t) => ops.dispose(t));
          ops.close();
          const held = tf.memory().numTensors;
          objective.dispose?.();
          // z, y, zᵀ, and for the fused steps e₁ and e₁ of length h.
          assertEquals(tf.memory().numTensors, held - (depth === 2 ? 5 : 3), "dispose frees data");
        }
      });
    }
  }

  // d = 2 divides 2h, where the one-sample step reads W in place of a copy (tf_mlp_runs.ts).
  for (const [activation, din] of [["tanh", DIN], ["softplus", DIN], ["tanh", 2]] as const) {
    Deno.test(`mlp runs fused SAM ${activation} (d ${din}) on ${backend}: equals the generic step per run`, async () => {
      await createTfEngine(backend);
      const ds = dataset(2, activation, din), R = 3;
      const objective = tfMlpRuns(ds, R), D = objective.dim;
      assertEquals(objective.fusedSam!(4), undefined, "other batch sizes use the generic step");
      // Run 2 starts at 0, where tanh's gradient vanishes for every sample: the e₁ direction.
      const x0 = startPoints(ds, R);
      if (activation === "tanh") x0.fill(0, 2 * D);
      const ops = new TfRunsOps(D, R);
      const lr = ops.coef([0.05, 0.02, 0.1]), rho = ops.coef([0.05, 0.1, 0.2]);
      const minusLr = ops.coef([-0.05, -0.02, -0.1]), one = ops.coef([1, 1, 1]);
      for (const b of [1, N]) {
        const fused = objective.fusedSam!(b)!;
        const xf = ops.fromF64(x0), xg = ops.fromF64(x0);
        const g = ops.zeros(), xt = ops.zeros(), gt = ops.zeros();
        const before = tf.memory().numTensors;
        for (let t = 0; t < 6; t++) {
          const batch = b === 1
            ? Int32Array.of(t % N, (5 * t + 1) % N, (3 * t + 7) % N)
            : undefined;
          fused(xf, batch, lr, rho);
          objective.grad(xg, g, batch);
          ops.setNormalized(xt, g, rho);
          ops.axpy(xt, one, xg);
          objective.grad(xt, gt, batch);
          ops.axpy(xg, minusLr, gt);
        }
        assertEquals(tf.memory().numTensors, before, `b ${b}: no tensors left behind`);
        const got = await ops.toF64(xf), want = await ops.toF64(xg);
        // Six steps' rounding, relative to max(‖x‖∞, 1): the two steps' float32 forms of tanh
        // differ (tf.tanh and 2σ(2t) − 1, ≲ 2e-7 apart in absolute terms, tf_mlp.ts), which
        // dominates on the run near 0.
        rowErrors(got, want, D, 1).forEach((e, r) => assert(e < 2e-6, `b ${b} run ${r}: ${e}`));
        const moved = rowErrors(want, x0, D);
        moved.forEach((e, r) => assert(e > 1e-4, `b ${b} run ${r} moved (${e})`));
        [xf, xg, g, xt, gt].forEach((t: TfRunsVec) => ops.dispose(t));
      }
      [lr, rho, minusLr, one].forEach((c) => ops.disposeCoef(c));
      ops.close();
      objective.dispose?.();
    });
  }
}

Deno.test("mlp runs: bad depth, runs or batch length is a RangeError", async () => {
  await createTfEngine("cpu");
  const ds = dataset(2, "tanh"), deep = dataset(3, "tanh");
  assertThrows(() => tfMlpRuns(deep, 2), /^RangeError: mlp: params.depth 3 is tfMlp3Runs's$/);
  assertThrows(() => tfMlp3Runs(ds, 2), /^RangeError: mlp: tfMlp3Runs needs params.depth = 3$/);
  assertThrows(() => tfMlpRuns(ds, 0), /^RangeError: runs must be ≥ 1 \(got 0\)$/);
  const objective = tfMlpRuns(ds, 2), ops = new TfRunsOps(objective.dim, 2);
  const x = ops.zeros(), out = ops.zeros(), c = ops.coef([1, 1]);
  assertThrows(
    () => objective.grad(x, out, Int32Array.of(0, 1, 2)),
    /^RangeError: batch has 3 indices, not b ≥ 1 for each of 2 runs$/,
  );
  assertThrows(
    () => objective.fusedSam!(1)!(x, Int32Array.of(0), c, c),
    /^RangeError: the one-sample SAM step takes one index per run \(2 runs\)$/,
  );
  tf.dispose([x.t, out.t, c]);
  ops.close();
  objective.dispose?.();
});
