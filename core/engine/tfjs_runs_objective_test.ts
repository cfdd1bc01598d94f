/**
 * tfRunsObjective against float64 closed forms, on cpu and then wasm. The per-sample loss
 * ℓ_k(x) = u_k² + u_k³/3 with u_k = ⟨c_k, x⟩ − t_k − noise has ∇ℓ_k = (2u_k + u_k²)c_k and
 * ∇²ℓ_k v = (2 + 2u_k)⟨c_k, v⟩c_k: an x-dependent Hessian, so an HVP that let v vary with x, or a
 * run that saw another run's rows, would show.
 *
 * Tolerance: entries are sums of ≤ M·D float32 products of O(1) values; u = 2⁻²⁴ times a few ulps
 * times √(M·D) ≈ 4 at these sizes is below 1e-6 relative to the row's largest entry; 1e-5 is used.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { createTfEngine } from "./tfjs.ts";
import { TfRunsOps } from "./tfjs_runs.ts";
import { tfRunsObjective } from "./tfjs_runs_objective.ts";

const M = 5, D = 4, TOL = 1e-5;
const rng = new Rng(3);
const f32 = (n: number, s = 1) =>
  Float64Array.from(rng.fillNormal(new Float64Array(n)), (v) => Math.fround(s * v));
const C = f32(M * D, 0.5), T = f32(M, 0.3);

/** Per-run u [R, b] for the batch's rows of C (all M when undefined), minus noise. */
function build(runs: number) {
  const c = tf.tensor2d(Float32Array.from(C), [M, D]), t = tf.tensor1d(Float32Array.from(T));
  const u = (x: tf.Tensor2D, batch?: tf.Tensor2D, noise?: tf.Tensor2D) => {
    const flat = batch ? tf.reshape(batch, [-1]) : undefined;
    const b = batch ? batch.shape[1] : M;
    const cb = flat ? tf.reshape(tf.gather(c, flat), [runs, b, D]) : tf.reshape(c, [1, M, D]);
    const tb = flat ? tf.reshape(tf.gather(t, flat), [runs, b]) : tf.reshape(t, [1, M]);
    const r = tf.sub(tf.sum(tf.mul(cb, tf.reshape(x, [runs, 1, D])), 2), tb);
    return noise ? tf.sub(r, noise) : r;
  };
  const ell = (r: tf.Tensor) =>
    tf.mean(tf.add(tf.square(r), tf.div(tf.mul(r, tf.square(r)), 3)), 1);
  return tfRunsObjective((x, batch) => ell(u(x, batch)) as tf.Tensor1D, {
    dim: D,
    runs,
    numSamples: M,
    labelNoiseLoss: (x, batch, noise) => ell(u(x, batch, noise)) as tf.Tensor1D,
    dispose: () => tf.dispose([c, t]),
  });
}

/** Float64 loss, gradient and HVP of run r's row over its batch indices. */
function exact(x: Float64Array, v: Float64Array, idx: number[], noise?: Float64Array) {
  let loss = 0;
  const g = new Float64Array(D), hv = new Float64Array(D);
  idx.forEach((k, i) => {
    let u = -T[k] - (noise?.[i] ?? 0), cv = 0;
    for (let j = 0; j < D; j++) {
      u += C[k * D + j] * x[j];
      cv += C[k * D + j] * v[j];
    }
    loss += (u * u + u * u * u / 3) / idx.length;
    for (let j = 0; j < D; j++) {
      g[j] += (2 * u + u * u) * C[k * D + j] / idx.length;
      hv[j] += (2 + 2 * u) * cv * C[k * D + j] / idx.length;
    }
  });
  return { loss, g, hv };
}

function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, msg: string) {
  const scale = Math.max(...Array.from(want, Math.abs), 1e-30);
  for (let i = 0; i < want.length; i++) {
    assert(Math.abs(got[i] - want[i]) <= TOL * scale, `${msg}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`tfRunsObjective on ${backend}: each row is its run's closed form, no leaks`, async () => {
    await createTfEngine(backend);
    for (const R of [1, 3]) {
      const objective = build(R), ops = new TfRunsOps(D, R);
      assertEquals([objective.dim, objective.runs, objective.numSamples], [D, R, M]);
      const x = f32(R * D), v = f32(R * D);
      const xv = ops.fromF64(x), vv = ops.fromF64(v), out = ops.zeros();
      const before = tf.memory().numTensors;
      const batches = [
        undefined,
        Int32Array.from({ length: R }, (_, r) => (2 * r + 1) % M),
        Int32Array.from({ length: 3 * R }, (_, i) => (i * 3 + 1) % M),
      ];
      for (const batch of batches) {
        const b = batch ? batch.length / R : M, label = `R ${R} b ${b}`;
        const idx = (r: number) =>
          batch ? Array.from(batch.subarray(r * b, r * b + b)) : [...Array(M).keys()];
        const want = Array.from(
          { length: R },
          (_, r) => exact(x.subarray(r * D, r * D + D), v.subarray(r * D, r * D + D), idx(r)),
        );
        const s = objective.loss(xv, batch);
        assertEquals(s.shape, [R, 1]);
        assertNear(await ops.readRuns(s), want.map((w) => w.loss), `${label} loss`);
        ops.disposeScalar(s);
        objective.grad(xv, out, batch);
        assertNear(await ops.toF64(out), want.flatMap((w) => [...w.g]), `${label} grad`);
        objective.hvp(xv, vv, out, batch);
        assertNear(await ops.toF64(out), want.flatMap((w) => [...w.hv]), `${label} hvp`);
        // v === x: v is still held constant (the HVP along x itself).
        objective.hvp(xv, xv, out, batch);
        const alongX = Array.from(
          { length: R },
          (_, r) => exact(x.subarray(r * D, r * D + D), x.subarray(r * D, r * D + D), idx(r)),
        );
        assertNear(await ops.toF64(out), alongX.flatMap((w) => [...w.hv]), `${label} hvp(x, x)`);
      }
      const batch = Int32Array.from({ length: 2 * R }, (_, i) => (4 * i + 2) % M);
      const noise = f32(2 * R, 0.2);
      objective.labelNoiseGrad!(xv, out, batch, noise);
      const want = Array.from({ length: R }, (_, r) =>
        exact(
          x.subarray(r * D, r * D + D),
          v,
          Array.from(batch.subarray(2 * r, 2 * r + 2)),
          noise.subarray(2 * r, 2 * r + 2),
        ).g);
      assertNear(await ops.toF64(out), want.flatMap((g) => [...g]), `R ${R} labelNoiseGrad`);
      assertEquals(tf.memory().numTensors, before, `R ${R}: no tensors left behind`);
      [xv, vv, out].forEach((t) => ops.dispose(t));
      ops.close();
      const held = tf.memory().numTensors;
      objective.dispose?.();
      assertEquals(tf.memory().numTensors, held - 2, "dispose frees the data");
    }
  });
}

Deno.test("tfRunsObjective: bad sizes are RangeErrors", async () => {
  await createTfEngine("cpu");
  assertThrows(() => build(0), /^RangeError: runs must be ≥ 1 \(got 0\)$/);
  const objective = build(2), ops = new TfRunsOps(D, 2), x = ops.zeros();
  assertThrows(
    () => objective.loss(x, Int32Array.of(1)),
    /^RangeError: batch has 1 indices, not b ≥ 1 for each of 2 runs$/,
  );
  assertThrows(
    () => objective.labelNoiseGrad!(x, x, Int32Array.of(1, 2), Float64Array.of(0)),
    /^RangeError: noise has length 1, batch 2$/,
  );
  ops.dispose(x);
  ops.close();
  objective.dispose?.();
});
