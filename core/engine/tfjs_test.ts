import * as tf from "@tensorflow/tfjs";
import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createTfEngine, TfOps, type TfVec } from "./tfjs.ts";
import { F64Ops } from "./f64.ts";
import { Rng } from "../rng.ts";

const engine = await createTfEngine("cpu");
const DIM = 7;

/** float32-representable random vectors, so f64 and tfjs start from identical values. */
function vectors(count: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  return Array.from(
    { length: count },
    () => rng.fillNormal(new Float64Array(DIM)).map(Math.fround),
  );
}

Deno.test("createTfEngine records the runtime and caches ops per dimension", () => {
  assertEquals(engine.backend, "cpu");
  assertEquals(engine.runtime.tfjs, tf.version.tfjs);
  assertEquals(engine.runtime.backend, "cpu");
  assert(/^\d+\.\d+\.\d+/.test(engine.runtime.deno), `deno version ${engine.runtime.deno}`);
  assert(engine.ops(DIM) === engine.ops(DIM), "ops(dim) is cached");
  assertEquals(engine.ops(DIM).dim, DIM);
  assertThrows(() => new TfOps(0), /dim must be ≥ 1/);
});

Deno.test("TfOps agrees with F64Ops on every operation (float32 tolerance)", async () => {
  const ops = engine.ops(DIM), ref = new F64Ops(DIM);
  const [a, b, c] = vectors(3, 1);
  const fa = a.slice(), fb = b.slice(), fc = c.slice();
  const ta = ops.fromF64(a), tb = ops.fromF64(b), tc = ops.fromF64(c);
  const close = async (t: TfVec, f: Float64Array, msg: string) =>
    assertClose(await ops.toF64(t), f, { rtol: 1e-6, atol: 1e-6, msg });

  await close(ta, fa, "fromF64/toF64");
  ops.axpy(ta, 0.37, tb), ref.axpy(fa, 0.37, fb);
  await close(ta, fa, "axpy");
  const s = ops.dot(tb, tc), fs = ref.dot(fb, fc);
  assertClose(await ops.read(s), fs, { rtol: 1e-6, msg: "dot" });
  ops.axpyS(ta, -1.5, s, tc), ref.axpyS(fa, -1.5, fs, fc);
  await close(ta, fa, "axpyS");
  const n = ops.norm(tb), fn = ref.norm(fb);
  assertClose(await ops.read(n), fn, { rtol: 1e-6, msg: "norm" });
  ops.axpyDivS(ta, 0.8, n, tb), ref.axpyDivS(fa, 0.8, fn, fb);
  await close(ta, fa, "axpyDivS");
  ops.scale(ta, -2.25), ref.scale(fa, -2.25);
  await close(ta, fa, "scale");
  ops.addScaled(tc, ta, 0.5, tb), ref.addScaled(fc, fa, 0.5, fb);
  await close(tc, fc, "addScaled");
  ops.setNormalized(tb, tc, 0.05), ref.setNormalized(fb, fc, 0.05);
  await close(tb, fb, "setNormalized");
  ops.copy(ta, tc), ref.copy(fa, fc);
  await close(ta, fa, "copy");
  ops.set(ta, c), ref.set(fa, c);
  await close(ta, fa, "set");
  ops.addScaled(ta, ta, 1, ta), ref.addScaled(fa, fa, 1, fa);
  await close(ta, fa, "addScaled with aliased arguments");
  await close(ops.zeros(), new Float64Array(DIM), "zeros");
  ops.disposeScalar(s);
  ops.disposeScalar(n);
  [ta, tb, tc].forEach((t) => ops.dispose(t));
  assertThrows(() => ops.fromF64([1, 2]), /length 2 given, dimension is 7/);
});

Deno.test("setNormalized of a zero vector gives radius·e₁; axpyDivS by zero adds nothing", async () => {
  const ops = engine.ops(DIM);
  const zero = ops.zeros(), dst = ops.fromF64(vectors(1, 2)[0]);
  ops.setNormalized(dst, zero, 0.3);
  const e1 = new Float64Array(DIM);
  e1[0] = Math.fround(0.3);
  assertEquals(Array.from(await ops.toF64(dst)), Array.from(e1));
  const [x] = vectors(1, 3);
  const before = ops.fromF64(x), s = ops.norm(zero);
  ops.axpyDivS(before, 2, s, dst);
  const after = await ops.toF64(before);
  assert(after.every(Number.isFinite), "finite");
  assertEquals(Array.from(after), Array.from(x));
  ops.disposeScalar(s);
  [zero, dst, before].forEach((t) => ops.dispose(t));
});

Deno.test("every VecOps method leaves the tensor count unchanged", async () => {
  const ops = engine.ops(DIM);
  const [a, b] = vectors(2, 4);
  const ta = ops.fromF64(a), tb = ops.fromF64(b), tc = ops.zeros();
  const base = tf.memory().numTensors;
  for (let step = 0; step < 3; step++) {
    ops.set(tc, b);
    ops.copy(tc, ta);
    ops.copy(tc, tc);
    ops.axpy(tc, 0.1, tb);
    const s = ops.dot(ta, tb), n = ops.norm(tc);
    ops.axpyS(tc, 0.2, s, ta);
    ops.axpyDivS(tc, 0.3, n, tb);
    ops.scale(tc, 0.9);
    ops.addScaled(tc, ta, -0.4, tb);
    ops.setNormalized(tb, tc, 0.05);
    await ops.read(s);
    await ops.toF64(tc);
    ops.disposeScalar(s);
    ops.disposeScalar(n);
  }
  assertEquals(tf.memory().numTensors, base);
  const extra = ops.zeros();
  assertEquals(tf.memory().numTensors, base + 1);
  ops.dispose(extra);
  [ta, tb, tc].forEach((t) => ops.dispose(t));
  assertEquals(tf.memory().numTensors, base - 3);
});
