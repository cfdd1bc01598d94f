import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertThrows } from "../../testing/assert.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import { oracleFrom } from "../engine/oracle.ts";
import { Rng } from "../rng.ts";
import { createTfProblem } from "./tf_registry.ts";
import { assertAgreesWithF64 } from "./testing/f64_agreement.ts";
import { createF64Problem, type DatasetSpec, initialPoint, makeDataset } from "./registry.ts";
import {
  datasetDim,
  datasetLabel,
  datasetSamples,
  fdGrad,
  fdHvp,
  lossF64,
  relErr,
  testDatasets,
  toF32,
} from "./tf_testing.ts";

const engine = await createTfEngine("cpu");

/** A float32-representable test point and direction of the data set's dimension. */
function probePoint(dim: number, seed: number) {
  const rng = new Rng(seed);
  const x = toF32(rng.fillNormal(new Float64Array(dim)).map((v) => 0.8 * v));
  const v = toF32(rng.fillNormal(new Float64Array(dim)));
  return { x, v };
}

/** The batches each kind is checked on: full, and for M > 1 a batch with a repeated index. */
function batchesOf(m: number): (Int32Array | undefined)[] {
  return m > 1 ? [undefined, Int32Array.from([m - 1, 0, m - 1])] : [undefined, Int32Array.of(0)];
}

for (const ds of testDatasets()) {
  Deno.test(`tf ${datasetLabel(ds)}: loss, grad, HVP match float64 finite differences`, async () => {
    const dim = datasetDim(ds), m = datasetSamples(ds);
    const objective = createTfProblem(ds);
    assert(objective.dim === dim && objective.numSamples === m, "dim / numSamples");
    const oracle = oracleFrom(engine.ops(dim), objective);
    const { x, v } = probePoint(dim, 7);
    for (const batch of batchesOf(m)) {
      const f = (p: Float64Array) => lossF64(ds, p, batch);
      const label = `${datasetLabel(ds)} batch ${batch ?? "full"}`;
      assertClose(await oracle.loss(x, batch), f(x), { rtol: 1e-5, msg: `${label} loss` });
      const g = new Float64Array(dim), hv = new Float64Array(dim);
      await oracle.grad(x, g, batch);
      await oracle.hvp(x, v, hv, batch);
      // Oracles in float64 at the same (float32) point: only tfjs's float32 rounding remains.
      const gErr = relErr(g, fdGrad(f, x, 1e-6));
      const hErr = relErr(hv, fdHvp(f, x, v, 1e-4));
      assert(gErr < 1e-5, `${label} grad rel err ${gErr}`);
      assert(hErr < 1e-5, `${label} hvp rel err ${hErr}`);
      // The HVP is also the derivative of the engine's own gradient (float32 central difference).
      const gp = new Float64Array(dim), gm = new Float64Array(dim), eps = 3e-3;
      await oracle.grad(x.map((xi, i) => xi + eps * v[i]), gp, batch);
      await oracle.grad(x.map((xi, i) => xi - eps * v[i]), gm, batch);
      const fdOwn = gp.map((p, i) => (p - gm[i]) / (2 * eps));
      const ownErr = relErr(hv, fdOwn);
      assert(ownErr < 1e-3, `${label} hvp vs FD of tf grad rel err ${ownErr}`);
    }
    objective.dispose?.();
  });
}

for (const ds of testDatasets().filter((d) => d.kind === "diagnet" || d.kind === "mlp")) {
  Deno.test(`tf ${datasetLabel(ds)}: labelNoiseGrad matches float64 finite differences`, async () => {
    const dim = datasetDim(ds);
    const ops = engine.ops(dim);
    const objective = createTfProblem(ds);
    const { x } = probePoint(dim, 11);
    const batch = Int32Array.of(4, 1, 4);
    const noise = toF32([0.3, -0.5, 1.1]);
    const xv = ops.fromF64(x), out = ops.zeros();
    objective.labelNoiseGrad!(xv, out, batch, noise);
    const g = await ops.toF64(out);
    const err = relErr(g, fdGrad((p) => lossF64(ds, p, batch, noise), x, 1e-6));
    assert(err < 1e-5, `label-noise grad rel err ${err}`);
    // Zero noise is the plain batch gradient.
    objective.labelNoiseGrad!(xv, out, batch, new Float64Array(3));
    const g0 = await ops.toF64(out);
    objective.grad(xv, out, batch);
    assertClose(g0, await ops.toF64(out), { rtol: 1e-6, atol: 1e-7 });
    ops.dispose(xv);
    ops.dispose(out);
    objective.dispose?.();
  });
}

Deno.test("tf problems leave no tensors behind: loss, grad, hvp, labelNoiseGrad", async () => {
  for (const ds of testDatasets()) {
    const dim = datasetDim(ds), m = datasetSamples(ds);
    const ops = engine.ops(dim);
    const objective = createTfProblem(ds);
    const { x, v } = probePoint(dim, 3);
    const xv = ops.fromF64(x), vv = ops.fromF64(v), out = ops.zeros();
    const base = tf.memory().numTensors;
    for (const batch of batchesOf(m)) {
      const s = objective.loss(xv, batch);
      await ops.read(s);
      ops.disposeScalar(s);
      objective.grad(xv, out, batch);
      objective.hvp(xv, vv, out, batch);
      objective.hvp(xv, xv, out, batch);
      objective.grad(out, out, batch);
    }
    objective.labelNoiseGrad?.(xv, out, Int32Array.of(0, 1), Float64Array.of(0.1, 0.2));
    await ops.toF64(out);
    assert(
      tf.memory().numTensors === base,
      `${datasetLabel(ds)}: ${tf.memory().numTensors} != ${base}`,
    );
    [xv, vv, out].forEach((t) => ops.dispose(t));
    const before = tf.memory().numTensors;
    objective.dispose?.();
    assert(tf.memory().numTensors <= before, "dispose frees the data tensors");
  }
});

Deno.test("tf hvp with v aliasing x treats v as a constant", async () => {
  const ds = testDatasets().find((d) => d.kind === "mlp")!;
  const dim = datasetDim(ds);
  const ops = engine.ops(dim);
  const objective = createTfProblem(ds);
  const { x } = probePoint(dim, 5);
  const xv = ops.fromF64(x), xc = ops.fromF64(x), a = ops.zeros(), b = ops.zeros();
  objective.hvp(xv, xv, a);
  objective.hvp(xv, xc, b);
  assertClose(await ops.toF64(a), await ops.toF64(b), { rtol: 1e-6, atol: 1e-7 });
  [xv, xc, a, b].forEach((t) => ops.dispose(t));
  objective.dispose?.();
});

Deno.test("createTfProblem rejects unknown kinds and malformed data", () => {
  assertThrows(
    () => createTfProblem({ kind: "nope", params: {}, arrays: {}, shapes: {} }),
    /unknown problem kind "nope"/,
  );
  assertThrows(
    () =>
      createTfProblem({
        kind: "diagnet",
        params: {},
        arrays: { z: new Float64Array(6), y: new Float64Array(2) },
        shapes: { z: [3, 2], y: [2] },
      }),
    /diagnet: array "y"/,
  );
  assertThrows(
    () => createTfProblem({ kind: "toy4d", params: { family: "papr" }, arrays: {}, shapes: {} }),
    /toy4d: family must be one of/,
  );
});

// The same Dataset through both engines: the float64 problems (core/problems/registry.ts, closed-form
// derivatives written independently) against the tfjs autodiff ones.
const SPECS: DatasetSpec[] = [
  { kind: "quadratic", eigenvalues: [4, 2, 1, 0.5, 0] },
  { kind: "two-quadratics", eigenvalues1: [3, 1, 0.2], eigenvalues2: [0.5, 2, 1] },
  { kind: "toy4d", family: "paper" },
  { kind: "toy4d", family: "shifted" },
  { kind: "sanity2d" },
  { kind: "diagnet", n: 8, d: 6, k: 2, nTest: 0 },
  { kind: "mlp", hidden: 5, activation: "tanh", n: 8, d: 3, nTest: 4 },
  { kind: "mlp", hidden: 5, activation: "softplus", n: 8, d: 3, nTest: 4 },
];

for (const spec of SPECS) {
  const ds = makeDataset(spec, { seed: 3 });
  Deno.test(`f64 vs tfjs cpu on the same Dataset: ${datasetLabel(ds)}`, async () => {
    const f64 = createF64Problem(ds), objective = createTfProblem(ds);
    const dim = f64.dim, m = f64.numSamples;
    assert(objective.dim === dim && objective.numSamples === m, "dim / numSamples");
    const oracle = oracleFrom(engine.ops(dim), objective);
    // A generic point near the default start (off the minimizer manifold, so all terms count).
    const rng = new Rng(21);
    const x0 = initialPoint(ds, { seed: 5 });
    const x = toF32(x0.map((xi) => xi + 0.3 * rng.normal()));
    const v = toF32(rng.fillNormal(new Float64Array(dim)));
    for (const batch of batchesOf(m)) {
      const label = `${datasetLabel(ds)} batch ${batch ?? "full"}`;
      await assertAgreesWithF64(oracle, f64, { x, v, batch, label });
    }
    if (f64.labelNoiseGrad) {
      const ops = engine.ops(dim), xv = ops.fromF64(x), out = ops.zeros();
      const batch = Int32Array.of(m - 1, 2, 0), noise = toF32([0.4, -0.2, 0.9]);
      const g64 = new Float64Array(dim);
      objective.labelNoiseGrad!(xv, out, batch, noise);
      f64.labelNoiseGrad(x, g64, batch, noise);
      const err = relErr(await ops.toF64(out), g64);
      assert(err < 1e-5, `label-noise grad rel err ${err}`);
      ops.dispose(xv);
      ops.dispose(out);
    }
    objective.dispose?.();
  });
}
