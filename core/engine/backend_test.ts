import * as tf from "@tensorflow/tfjs";
import { assert, assertEquals, assertRejects } from "../../testing/assert.ts";
import { probeWebGpu, wasmDistUrl } from "./backend.ts";
import { createTfEngine, type TfEngine } from "./tfjs.ts";
import { oracleFrom } from "./oracle.ts";
import { F64Ops } from "./f64.ts";
import { Rng } from "../rng.ts";
import { createTfProblem } from "../problems/tf_registry.ts";
import {
  datasetDim,
  datasetLabel,
  datasetSamples,
  relErr,
  testDatasets,
  toF32,
} from "../problems/tf_testing.ts";
import type { Dataset } from "../problems/types.ts";

// The kinds compared across backends: the MLP (matmuls, custom activations, gathers) and the toy
// (tiny slices and concats), as the brief asks.
const DATASETS = testDatasets().filter((d) => d.kind === "mlp" || d.kind === "toy4d");

/** Everything an objective computes at one point, read back as float64. */
async function evaluate(engine: TfEngine, ds: Dataset): Promise<Float64Array[]> {
  const dim = datasetDim(ds), m = datasetSamples(ds);
  const objective = createTfProblem(ds);
  const oracle = oracleFrom(engine.ops(dim), objective);
  const rng = new Rng(9);
  const x = toF32(rng.fillNormal(new Float64Array(dim)));
  const v = toF32(rng.fillNormal(new Float64Array(dim)));
  const results: Float64Array[] = [];
  for (const batch of [undefined, Int32Array.of(m - 1, 0, m - 1)]) {
    const g = new Float64Array(dim), hv = new Float64Array(dim);
    results.push(Float64Array.of(await oracle.loss(x, batch)));
    await oracle.grad(x, g, batch);
    await oracle.hvp(x, v, hv, batch);
    results.push(g, hv);
  }
  if (objective.labelNoiseGrad) {
    const ops = engine.ops(dim), xv = ops.fromF64(x), out = ops.zeros();
    objective.labelNoiseGrad(xv, out, Int32Array.of(1, 2), Float64Array.of(0.25, -0.5));
    results.push(await ops.toF64(out));
    ops.dispose(xv);
    ops.dispose(out);
  }
  objective.dispose?.();
  return results;
}

/** Runs a sequence of VecOps on `engine` and on F64Ops; returns the largest relative difference. */
async function vecOpsDiscrepancy(engine: TfEngine): Promise<number> {
  const dim = 5, ops = engine.ops(dim), ref = new F64Ops(dim);
  const rng = new Rng(6);
  const a = toF32(rng.fillNormal(new Float64Array(dim))),
    b = toF32(rng.fillNormal(new Float64Array(dim)));
  const ta = ops.fromF64(a), tb = ops.fromF64(b), tz = ops.zeros();
  const base = tf.memory().numTensors;
  const s = ops.norm(tb), fs = ref.norm(b);
  ops.axpyDivS(ta, 0.5, s, tb), ref.axpyDivS(a, 0.5, fs, b);
  const zs = ops.norm(tz);
  ops.axpyDivS(ta, 0.5, zs, tb); // s = 0: nothing added
  ops.setNormalized(tb, ta, 0.1), ref.setNormalized(b, a, 0.1);
  const e = ops.zeros();
  ops.setNormalized(e, tz, 0.2); // zero source: 0.2·e₁
  const errs = [
    relErr(await ops.toF64(ta), a),
    relErr(await ops.toF64(tb), b),
    relErr(await ops.toF64(e), [0.2, 0, 0, 0, 0]),
  ];
  [s, zs].forEach((t) => ops.disposeScalar(t));
  ops.dispose(e);
  assertEquals(tf.memory().numTensors, base, "tensor count after VecOps");
  [ta, tb, tz].forEach((t) => ops.dispose(t));
  return Math.max(...errs);
}

/** Compares every backend result with the cpu backend's, relative to each result's norm. */
function assertAgree(label: string, got: Float64Array[], want: Float64Array[], rtol: number) {
  assertEquals(got.length, want.length);
  got.forEach((g, i) => {
    const err = relErr(g, want[i]);
    assert(err <= rtol, `${label} result ${i}: rel err ${err} > ${rtol}`);
  });
}

const cpu = await createTfEngine("cpu");
const reference = new Map<Dataset, Float64Array[]>();
for (const ds of DATASETS) reference.set(ds, await evaluate(cpu, ds));

Deno.test("wasm backend agrees with cpu on loss, grad, HVP, label-noise grad", async () => {
  assert(wasmDistUrl().startsWith("file:") && wasmDistUrl().endsWith("/dist/"), wasmDistUrl());
  const wasm = await createTfEngine("wasm");
  assertEquals(wasm.runtime.backend, "wasm");
  assert(tf.getBackend() === "wasm", "wasm is the global backend");
  for (const ds of DATASETS) {
    assertAgree(`wasm ${datasetLabel(ds)}`, await evaluate(wasm, ds), reference.get(ds)!, 1e-5);
  }
  assert(await vecOpsDiscrepancy(wasm) < 1e-6, "wasm VecOps");
  await createTfEngine("cpu");
});

const probe = await probeWebGpu();
if (!probe.available) console.log(`webgpu tests skipped: no adapter (${probe.description})`);

Deno.test({
  name: "webgpu backend (software adapter in CI) agrees with cpu",
  ignore: !probe.available,
  // The WebGPU device keeps resources alive across tests by design.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const gpu = await createTfEngine("webgpu");
    assertEquals(gpu.runtime.backend, "webgpu");
    assertEquals(gpu.runtime.adapter, probe.description);
    for (const ds of DATASETS) {
      assertAgree(`webgpu ${datasetLabel(ds)}`, await evaluate(gpu, ds), reference.get(ds)!, 1e-5);
    }
    assert(await vecOpsDiscrepancy(gpu) < 1e-6, "webgpu VecOps");
    await createTfEngine("cpu");
  },
});

Deno.test("probeWebGpu reports a missing API, a null adapter and a throwing request", async () => {
  assertEquals((await probeWebGpu(null)).available, false);
  const none = await probeWebGpu({ requestAdapter: () => Promise.resolve(null) });
  assertEquals(none, {
    available: false,
    fallback: false,
    description: "requestAdapter() returned null",
  });
  const throwing = await probeWebGpu({ requestAdapter: () => Promise.reject(new Error("boom")) });
  assert(!throwing.available && /boom/.test(throwing.description), throwing.description);
});

Deno.test("wasmDistUrl: SAM_WASM_DIST names the folder of the .wasm files (absolute or relative)", () => {
  const before = Deno.env.get("SAM_WASM_DIST");
  try {
    Deno.env.set("SAM_WASM_DIST", "/opt/tfjs wasm");
    assertEquals(wasmDistUrl(), "file:///opt/tfjs%20wasm/");
    Deno.env.set("SAM_WASM_DIST", "wasm/");
    assertEquals(wasmDistUrl(), new URL(`${Deno.cwd()}/wasm/`, "file:///").href);
  } finally {
    if (before === undefined) Deno.env.delete("SAM_WASM_DIST");
    else Deno.env.set("SAM_WASM_DIST", before);
  }
  assert(wasmDistUrl().endsWith("/tfjs-backend-wasm/dist/"), wasmDistUrl());
});

Deno.test("createTfEngine rejects an unknown backend", async () => {
  await assertRejects(() => createTfEngine("webgl" as "cpu"), /unknown tfjs backend "webgl"/);
});
