import * as tf from "@tensorflow/tfjs";
import { assertClose, assertEquals } from "../../testing/assert.ts";
import { createF64Problem, initialPoint, makeDataset } from "../problems/registry.ts";
import { createTfProblem } from "../problems/tf_registry.ts";
import { F64Ops } from "./f64.ts";
import { oracleFrom } from "./oracle.ts";
import { createTfEngine } from "./tfjs.ts";

const dataset = makeDataset({ kind: "toy4d", family: "paper" }, { seed: 0 });
const x = initialPoint(dataset, { seed: 0 });
const v = Float64Array.of(0.3, -0.2, 0.5, 0.1);
const batch = Int32Array.of(1);

Deno.test("oracleFrom on f64 returns exactly the problem's own loss, gradient and HVP", async () => {
  const problem = createF64Problem(dataset);
  const oracle = oracleFrom(new F64Ops(problem.dim), problem);
  const g = new Float64Array(4),
    hv = new Float64Array(4),
    g2 = new Float64Array(4),
    hv2 = new Float64Array(4);
  await oracle.grad(x, g, batch);
  problem.grad(x, g2, batch);
  await oracle.hvp(x, v, hv);
  problem.hvp(x, v, hv2);
  assertEquals(await oracle.loss(x), problem.loss(x));
  assertEquals(g, g2);
  assertEquals(hv, hv2);
});

Deno.test("oracleFrom on f64 is right when the output aliases an input", async () => {
  const problem = createF64Problem(dataset);
  const oracle = oracleFrom(new F64Ops(problem.dim), problem);
  const g = new Float64Array(4), hv = new Float64Array(4);
  problem.grad(x, g);
  problem.hvp(x, v, hv);
  const xa = x.slice(), va = v.slice();
  await oracle.grad(xa, xa);
  await oracle.hvp(x, va, va);
  assertEquals(xa, g);
  assertEquals(va, hv);
});

Deno.test("oracleFrom on tfjs agrees with f64 in float32 and frees its vectors on dispose", async () => {
  const engine = await createTfEngine("cpu");
  const problem = createF64Problem(dataset);
  const objective = createTfProblem(dataset);
  const ops = engine.ops(4); // holds a cached constant (e₁) for the life of the engine
  const baseline = tf.memory().numTensors;
  const oracle = oracleFrom(ops, objective);
  const hv = new Float64Array(4), hv64 = new Float64Array(4);
  await oracle.hvp(x, v, hv, batch);
  problem.hvp(x, v, hv64, batch);
  assertClose(hv, hv64, { rtol: 1e-5, atol: 1e-6 });
  oracle.dispose?.();
  assertEquals(tf.memory().numTensors, baseline);
  objective.dispose?.();
});
