/**
 * The fused MLP SAM steps against their oracles: the generic step (core/optim/step.ts) over the
 * same objective's autodiff gradients, and the float64 closed form.
 */
import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import { createTfEngine } from "../engine/tfjs.ts";
import type { Objective } from "../engine/types.ts";
import type { TfVec } from "../engine/tfjs.ts";
import { createStep } from "../optim/step.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, initialPoint, makeDataset } from "./registry.ts";
import { createTfProblem } from "./tf_registry.ts";
import { resolveBlas } from "../engine/blas.ts";
import type { Dataset } from "./types.ts";

const engine = await createTfEngine("wasm");
const blas = resolveBlas("auto").blas;

/** The objective without its fused steps: createStep then runs the generic step. */
function generic(o: Objective<TfVec, tf.Scalar>): Objective<TfVec, tf.Scalar> {
  return { ...o, fusedSam: undefined };
}

/** Who computes the fused step's products: the project's kernel (default), sgemm or tf.matMul. */
type Via = "kernel" | "sgemm" | "tfjs";

/** x after `steps` steps, and the tfjs kernels the first step ran. */
async function runKernels(
  dataset: Dataset,
  kind: "sam" | "1sam",
  x0: Float64Array,
  opts: { fused: boolean; steps: number; via?: Via },
): Promise<{ x: Float64Array; kernels: Set<string> }> {
  // blas: null keeps the project's kernel whatever SAM_BLAS says.
  const via = opts.via ?? "kernel";
  const objective = createTfProblem(dataset, {
    blas: via === "sgemm" ? blas : via === "tfjs" ? "tfjs" : null,
  });
  const ops = engine.ops(objective.dim);
  const obj = opts.fused ? objective : generic(objective);
  const step = createStep(ops, obj, { kind, lr: 0.05, rho: 0.1 }, new Rng(7));
  const x = ops.fromF64(x0);
  const { kernelNames } = await tf.profile(() => step.step(x));
  for (let t = 1; t < opts.steps; t++) step.step(x);
  const out = await ops.toF64(x);
  step.dispose();
  ops.dispose(x);
  objective.dispose?.();
  return { x: out, kernels: new Set(kernelNames) };
}

async function run(
  dataset: Dataset,
  kind: "sam" | "1sam",
  x0: Float64Array,
  opts: { fused: boolean; steps: number; via?: Via },
): Promise<Float64Array> {
  return (await runKernels(dataset, kind, x0, opts)).x;
}

function f64Run(dataset: Dataset, kind: "sam" | "1sam", x0: Float64Array, steps: number) {
  const problem = createF64Problem(dataset);
  const step = createStep(
    new F64Ops(problem.dim),
    problem,
    { kind, lr: 0.05, rho: 0.1 },
    new Rng(7),
  );
  const x = x0.slice();
  for (let t = 0; t < steps; t++) step.step(x);
  return x;
}

for (const activation of ["tanh", "softplus"] as const) {
  const dataset = makeDataset(
    { kind: "mlp", n: 24, d: 5, hidden: 7, activation, nTest: 0 },
    { seed: 3 },
  );
  for (const kind of ["sam", "1sam"] as const) {
    Deno.test(`tfjs-wasm fused ${kind} (${activation}) = generic step = float64, no leaks`, async () => {
      const objective = createTfProblem(dataset);
      assert(objective.fusedSam?.(kind === "sam" ? 24 : 1), "the fused step exists");
      assertEquals(objective.fusedSam!(3), undefined, "other batch sizes use the generic step");
      objective.dispose?.();
      const x0 = initialPoint(dataset, { seed: 1 });
      engine.ops(x0.length); // its cached constant e₁ lives with the engine
      const before = tf.memory().numTensors;
      const { x: fused, kernels } = await runKernels(dataset, kind, x0, { fused: true, steps: 10 });
      assertEquals(tf.memory().numTensors, before, "no tensors left behind");
      const gen = await run(dataset, kind, x0, { fused: false, steps: 10 });
      const exact = f64Run(dataset, kind, x0, 10);
      const scale = exact.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(fused, gen, { rtol: 0, atol: 2e-6 * scale, msg: "fused vs generic" });
      assertClose(fused, exact, { rtol: 0, atol: 2e-6 * scale, msg: "fused vs float64" });
      if (kind === "sam") {
        assert(kernels.has("SamGemm") && !kernels.has("BatchMatMul"), [...kernels].join(" "));
        const tfjs = await runKernels(dataset, kind, x0, { fused: true, steps: 10, via: "tfjs" });
        assertClose(tfjs.x, exact, { rtol: 0, atol: 2e-6 * scale, msg: "tf.matMul vs float64" });
        assert(tfjs.kernels.has("BatchMatMul") && !tfjs.kernels.has("SamGemm"), "tf.matMul ran");
      }
      if (blas && kind === "sam") {
        const before = tf.memory().numTensors;
        const sgemm = await runKernels(dataset, kind, x0, { fused: true, steps: 10, via: "sgemm" });
        assertEquals(tf.memory().numTensors, before, "no tensors left behind (sgemm)");
        assertClose(sgemm.x, exact, { rtol: 0, atol: 2e-6 * scale, msg: "sgemm vs float64" });
        assert(sgemm.kernels.has("SamSgemm") && !sgemm.kernels.has("SamGemm"), "sgemm ran");
      }
      // The steps moved: the comparison is not of x0 with itself.
      assert(exact.some((v, i) => Math.abs(v - x0[i]) > 1e-3 * scale), "x moved");
    });
  }
}

Deno.test("tfjs-wasm fused sam and 1sam at a zero gradient ascend along e₁, as the generic step", async () => {
  // x = 0 with tanh: s = 0 and a = 0, so ∇L = 0 although the residuals are not.
  const dataset = makeDataset(
    { kind: "mlp", n: 6, d: 3, hidden: 4, activation: "tanh", nTest: 0 },
    { seed: 5 },
  );
  const x0 = new Float64Array(4 * 5);
  for (const kind of ["sam", "1sam"] as const) {
    const fused = await run(dataset, kind, x0, { fused: true, steps: 1 });
    const gen = await run(dataset, kind, x0, { fused: false, steps: 1 });
    const exact = f64Run(dataset, kind, x0, 1);
    assert(exact.some((v) => v !== 0), `${kind}: the e₁ ascent moves x`);
    assertClose(fused, gen, { rtol: 1e-5, atol: 1e-7, msg: `${kind} fused vs generic` });
    assertClose(fused, exact, { rtol: 1e-5, atol: 1e-7, msg: `${kind} fused vs float64` });
  }
});
