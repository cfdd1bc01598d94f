import { assert, assertClose } from "../../testing/assert.ts";
import { alignment, sampleAlignment } from "./alignment.ts";
import {
  denseMul,
  type KnownSpectrum,
  matrixWithSpectrum,
  quadraticsOracle,
} from "./testing_oracles.ts";

/** Closed form for L = ½xᵀAx: ∇L = Ax, v1 = q1, so |cos| = λ1|⟨q1, x⟩|/‖Ax‖. */
function closedFormCos(s: KnownSpectrum, x: Float64Array): number {
  const ax = new Float64Array(s.n);
  denseMul(s.a, s.n, x, ax);
  const top = s.eigenvalues.indexOf(Math.max(...s.eigenvalues));
  const c = x.reduce((acc, xi, i) => acc + xi * s.q[top][i], 0);
  return Math.abs(s.eigenvalues[top] * c) / Math.hypot(...ax);
}

Deno.test("alignment: |cos(∇L, v1)| of a quadratic matches the closed form; 1 along v1, NaN at ∇L = 0", async () => {
  const s = matrixWithSpectrum([4, 2, 1, 0.5, 0.1], 1);
  const oracle = quadraticsOracle([s.a], s.n);
  const x = new Float64Array([0.3, -0.5, 0.2, 0.9, -0.1]);
  const res = await alignment(oracle, x, { tol: 1e-12 });
  assertClose(res.cos, closedFormCos(s, x), { rtol: 1e-9 });
  assertClose(res.lambda1, 4, { rtol: 1e-12 });
  assert(res.cos > 0.01 && res.cos < 0.99, `uninformative test point: ${res.cos}`);
  const along = await alignment(oracle, s.q[0].map((v) => -0.7 * v));
  assertClose(along.cos, 1, { rtol: 1e-9 });
  assert(Number.isNaN((await alignment(oracle, new Float64Array(s.n))).cos));
});

Deno.test("sampleAlignment: per-sample cos over batch {k} of two quadratics, mean and min", async () => {
  const s0 = matrixWithSpectrum([3, 1, 0.2], 2), s1 = matrixWithSpectrum([2, 1.5, 0.1], 3);
  const oracle = quadraticsOracle([s0.a, s1.a], 3);
  const x = new Float64Array([0.5, -0.4, 0.8]);
  const expected = [closedFormCos(s0, x), closedFormCos(s1, x)];
  const res = await sampleAlignment(oracle, x, { tol: 1e-12 });
  assertClose(res.values, expected, { rtol: 1e-9 });
  assertClose(res.mean, (expected[0] + expected[1]) / 2, { rtol: 1e-9 });
  assertClose(res.min, Math.min(...expected), { rtol: 1e-9 });
  // Full-batch alignment uses (A0 + A1)/2, a different matrix.
  const full = await alignment(oracle, x);
  const avg = new Float64Array(9).map((_, i) => (s0.a[i] + s1.a[i]) / 2);
  const ax = new Float64Array(3);
  denseMul(avg, 3, x, ax);
  assertClose(full.gradNorm, Math.hypot(...ax), { rtol: 1e-12 });
});

Deno.test("sampleAlignment: a seeded subset of at most maxSamples distinct samples", async () => {
  const mats = Array.from({ length: 6 }, (_, k) => matrixWithSpectrum([k + 1, 0.5], 10 + k).a);
  const oracle = quadraticsOracle(mats, 2);
  const res = await sampleAlignment(oracle, new Float64Array([1, 0.3]), { maxSamples: 3, seed: 4 });
  assert(res.samples.length === 3 && new Set(res.samples).size === 3);
  assert(res.samples.every((k) => k >= 0 && k < 6));
});
