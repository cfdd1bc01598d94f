import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertThrows } from "../../testing/assert.ts";
import { activation, sigmoid, softplus, tanh } from "./activations.ts";
import { createTfEngine } from "./tfjs.ts";
import { tfObjective } from "./tfjs_objective.ts";
import { oracleFrom } from "./oracle.ts";
import { Rng } from "../rng.ts";
import { fdHvp, lossF64, relErr, testDatasets, toF32 } from "../problems/tf_testing.ts";

await createTfEngine("cpu");

const POINTS = toF32([-2.1, -0.7, 0, 0.3, 1.2, 3.5]);

/** The k-th derivative (k = 1, 2, 3) of Σ f(x_i) by nested tf.grad, elementwise. */
async function derivative(f: (x: tf.Tensor) => tf.Tensor, k: number): Promise<Float64Array> {
  let g = (x: tf.Tensor) => tf.sum(f(x));
  for (let i = 1; i < k; i++) {
    const inner = g;
    g = (x: tf.Tensor) => tf.sum(tf.grad(inner)(x));
  }
  const out = tf.tidy(() => tf.grad(g)(tf.tensor1d(Float32Array.from(POINTS))));
  const values = Float64Array.from(await out.data());
  out.dispose();
  return values;
}

const th = Math.tanh;
const sg = (t: number) => 1 / (1 + Math.exp(-t));
/** Closed-form derivatives 1..3 of tanh and softplus. */
const EXACT: Record<string, ((t: number) => number)[]> = {
  tanh: [
    (t) => 1 - th(t) ** 2,
    (t) => -2 * th(t) * (1 - th(t) ** 2),
    (t) => (1 - th(t) ** 2) * (6 * th(t) ** 2 - 2),
  ],
  softplus: [
    sg,
    (t) => sg(t) * (1 - sg(t)),
    (t) => sg(t) * (1 - sg(t)) * (1 - 2 * sg(t)),
  ],
};

for (const [name, f] of [["tanh", tanh], ["softplus", softplus]] as const) {
  Deno.test(`${name}: derivatives of order 1–3 by nested tf.grad match closed forms`, async () => {
    for (let k = 1; k <= 3; k++) {
      const exact = Array.from(POINTS, EXACT[name][k - 1]);
      assertClose(await derivative(f, k), exact, { rtol: 1e-5, atol: 1e-6, msg: `${name} d${k}` });
    }
  });
}

Deno.test("activation values agree with tfjs and with float64", async () => {
  const x = tf.tensor1d(Float32Array.from(POINTS));
  for (
    const [f, ref] of [
      [tanh, th],
      [softplus, (t: number) => Math.log1p(Math.exp(t))],
      [sigmoid, sg],
    ] as const
  ) {
    const y = f(x);
    assertClose(await y.data(), Array.from(POINTS, ref), { rtol: 1e-6, atol: 1e-7 });
    y.dispose();
  }
  x.dispose();
  assertThrows(() => activation("relu"), /unknown activation "relu"/);
});

Deno.test("built-in tf.tanh's second derivative is wrong; the input-saving tanh is right", async () => {
  // Why activations.ts exists: under double backprop tf.tanh's gradient (which uses the saved
  // output) loses the activation's curvature, silently. Oracle: float64 finite differences of the
  // same 2-layer tanh MLP written with plain loops.
  const ds = testDatasets().find((d) => d.kind === "mlp" && d.params.activation === "tanh")!;
  const [n, d] = ds.shapes.z, h = ds.params.hidden as number, dim = h * (d + 2);
  const z = tf.tensor2d(Float32Array.from(ds.arrays.z), [n, d]);
  const y = tf.tensor1d(Float32Array.from(ds.arrays.y));
  const mlpLoss = (sigma: (t: tf.Tensor) => tf.Tensor) => (x: tf.Tensor1D) => {
    const [w, b, a] = tf.split(x, [h * d, h, h]);
    const pre = tf.add(tf.matMul(z, tf.reshape(w, [h, d]), false, true), b);
    const f = tf.reshape(tf.matMul(sigma(pre), tf.reshape(a, [h, 1])), [-1]);
    return tf.mean(tf.square(tf.sub(f, y))) as tf.Scalar;
  };
  const rng = new Rng(2);
  const x = toF32(rng.fillNormal(new Float64Array(dim)));
  const v = toF32(rng.fillNormal(new Float64Array(dim)));
  const exact = fdHvp((p) => lossF64(ds, p), x, v, 1e-4);
  const errors: Record<string, number> = {};
  for (const [label, sigma] of [["builtin", tf.tanh], ["custom", tanh]] as const) {
    const engine = await createTfEngine("cpu");
    const oracle = oracleFrom(engine.ops(dim), tfObjective(mlpLoss(sigma), { dim, numSamples: n }));
    const hv = new Float64Array(dim);
    await oracle.hvp(x, v, hv);
    errors[label] = relErr(hv, exact);
  }
  tf.dispose([z, y]);
  assert(errors.builtin > 0.05, `built-in tanh HVP unexpectedly right: rel err ${errors.builtin}`);
  assert(errors.custom < 1e-5, `custom tanh HVP rel err ${errors.custom}`);
});

Deno.test("square, mul, matMul, gather, mean: second derivatives are right without custom grads", async () => {
  // These ops' gradients use their inputs, so nested tf.grad is exact: an HVP of
  // mean_k ((B x ⊙ x)_k − c_k)² (gathered rows) against float64 finite differences.
  const rng = new Rng(4);
  const dim = 5, rows = 3;
  const bm = rng.fillNormal(new Float64Array(rows * dim)),
    c = rng.fillNormal(new Float64Array(rows));
  const idx = [2, 0, 2];
  const lossRef = (p: Float64Array) => {
    let s = 0;
    for (const k of idx) {
      let bx = 0;
      for (let j = 0; j < dim; j++) bx += Math.fround(bm[k * dim + j]) * p[j];
      s += (bx * p[k] - Math.fround(c[k])) ** 2;
    }
    return s / idx.length;
  };
  const bt = tf.tensor2d(Float32Array.from(bm), [rows, dim]),
    ct = tf.tensor1d(Float32Array.from(c));
  const objective = tfObjective((x, batch) => {
    const bx = tf.reshape(tf.matMul(bt, tf.reshape(x, [dim, 1])), [-1]);
    const r = tf.sub(tf.mul(bx, tf.slice(x, 0, rows)), ct);
    return tf.mean(tf.square(tf.gather(r, batch!)));
  }, { dim, numSamples: rows });
  const engine = await createTfEngine("cpu");
  const oracle = oracleFrom(engine.ops(dim), objective);
  const x = toF32(rng.fillNormal(new Float64Array(dim))),
    v = toF32(rng.fillNormal(new Float64Array(dim)));
  const hv = new Float64Array(dim);
  await oracle.hvp(x, v, hv, Int32Array.from(idx));
  const err = relErr(hv, fdHvp(lossRef, x, v, 1e-4));
  tf.dispose([bt, ct]);
  assert(err < 1e-5, `HVP rel err ${err}`);
});
