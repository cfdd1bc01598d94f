import { assertClose, assertEquals } from "../../testing/assert.ts";
import { resolveBlas } from "../engine/blas.ts";
import { Rng } from "../rng.ts";
import { MLP_GEMM_MIN_BATCH, MlpProblem } from "./mlp.ts";
import { initialPoint, makeDataset } from "./registry.ts";

// The BLAS path is opt-in for runs; its tests use it whenever the library is present.
const blas = resolveBlas("auto").blas;

/** ‖a − b‖∞ within `tol`·‖b‖∞ (sums reordered by the GEMM: a few ulps of the largest entry). */
function assertNear(a: Float64Array, b: Float64Array, tol: number, msg: string) {
  const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assertClose(a, b, { rtol: 0, atol: tol * scale, msg });
}

Deno.test({
  name: "mlp GEMM path equals the plain loops: loss, gradient, label-noise gradient, HVP",
  ignore: !blas,
  fn() {
    for (const activation of ["tanh", "softplus"] as const) {
      const ds = makeDataset(
        { kind: "mlp", n: 40, d: 6, hidden: 9, activation, nTest: 0 },
        { seed: 2 },
      );
      const fast = new MlpProblem(ds, { blas }), loops = new MlpProblem(ds, { blas: null });
      const rng = new Rng(5);
      const x = initialPoint(ds, { seed: 1 }).map((v) => v + 0.3 * rng.normal());
      const v = rng.fillNormal(new Float64Array(x.length));
      const batch = Int32Array.of(3, 0, 39, 7, 7, 12, 20, 5, 31);
      const noise = rng.fillNormal(new Float64Array(batch.length));
      for (const b of [undefined, batch]) {
        const what = `${activation} ${b ? "batch" : "full"}`;
        assertClose(fast.loss(x, b), loops.loss(x, b), { rtol: 1e-14, msg: `${what} loss` });
        const g1 = new Float64Array(x.length), g2 = new Float64Array(x.length);
        fast.grad(x, g1, b);
        loops.grad(x, g2, b);
        assertNear(g1, g2, 1e-14, `${what} grad`);
        fast.hvp(x, v, g1, b);
        loops.hvp(x, v, g2, b);
        assertNear(g1, g2, 1e-14, `${what} hvp`);
      }
      const g1 = new Float64Array(x.length), g2 = new Float64Array(x.length);
      fast.labelNoiseGrad(x, g1, batch, noise);
      loops.labelNoiseGrad(x, g2, batch, noise);
      assertNear(g1, g2, 1e-14, `${activation} label-noise grad`);
      // Batches below the threshold run the loops themselves: the same bits.
      const small = Int32Array.from({ length: MLP_GEMM_MIN_BATCH - 1 }, (_, i) => 3 * i);
      fast.grad(x, g1, small);
      loops.grad(x, g2, small);
      assertEquals(g1, g2);
    }
  },
});
