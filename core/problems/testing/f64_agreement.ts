/**
 * Test support: a tfjs objective (through its float64 oracle view) against the float64 problem of
 * the same data set at one point and batch — loss, gradient and HVP, each within 1e-5 relative, the
 * float32 rounding of a well-conditioned evaluation.
 * @module
 */
import { assert, assertClose } from "../../../testing/assert.ts";
import type { F64Oracle } from "../../engine/oracle.ts";
import type { Batch } from "../../engine/types.ts";
import type { F64Problem } from "../types.ts";
import { relErr } from "../tf_testing.ts";

/** Fails unless loss, gradient and HVP at (x, v, batch) agree between the two (message `label`). */
export async function assertAgreesWithF64(
  oracle: F64Oracle,
  f64: F64Problem,
  at: { x: Float64Array; v: Float64Array; batch: Batch; label: string },
): Promise<void> {
  const { x, v, batch, label } = at;
  const dim = f64.dim;
  const g = new Float64Array(dim), hv = new Float64Array(dim);
  const g64 = new Float64Array(dim), hv64 = new Float64Array(dim);
  assertClose(await oracle.loss(x, batch), f64.loss(x, batch), { rtol: 1e-5, msg: label });
  await oracle.grad(x, g, batch);
  f64.grad(x, g64, batch);
  await oracle.hvp(x, v, hv, batch);
  f64.hvp(x, v, hv64, batch);
  const gErr = relErr(g, g64), hErr = relErr(hv, hv64);
  assert(gErr < 1e-5, `${label} grad rel err ${gErr}`);
  assert(hErr < 1e-5, `${label} hvp rel err ${hErr}`);
}
