import { assert, assertClose, assertRejects } from "../../testing/assert.ts";
import { lambdaM, lanczos } from "./lanczos.ts";
import { dot, type Matvec } from "./linalg.ts";
import { denseMul, type KnownSpectrum, matrixWithSpectrum } from "./testing_oracles.ts";

function matvecOf(s: KnownSpectrum, counter?: { n: number }): Matvec {
  return (v, out) => {
    if (counter) counter.n++;
    denseMul(s.a, s.n, v, out);
  };
}

/** The true residual ‖Av − λv‖, computed independently of lanczos' own bookkeeping. */
function trueResidual(s: KnownSpectrum, v: Float64Array, lambda: number): number {
  const av = new Float64Array(s.n);
  denseMul(s.a, s.n, v, av);
  let r2 = 0;
  for (let i = 0; i < s.n; i++) r2 += (av[i] - lambda * v[i]) ** 2;
  return Math.sqrt(r2);
}

/** n eigenvalues: the given top ones, then a bulk spread in [lo, hi]. */
function spectrum(top: number[], n: number, lo: number, hi: number): number[] {
  const rest = Array.from(
    { length: n - top.length },
    (_, i) => lo + (hi - lo) * i / (n - top.length),
  );
  return [...top, ...rest];
}

Deno.test("lanczos: top-k eigenvalues and eigenvectors of a random 60×60 matrix with a known spectrum", async () => {
  const s = matrixWithSpectrum(spectrum([10, 7, 5], 60, -1, 2), 1);
  const counter = { n: 0 };
  const tol = 1e-10;
  const res = await lanczos(matvecOf(s, counter), 60, { k: 3, tol, seed: 3 });
  assert(res.converged);
  assert(res.iterations < 60, `used the whole space: ${res.iterations}`);
  assert(counter.n === res.iterations, `matvecs ${counter.n} vs reported ${res.iterations}`);
  assertClose(res.values, [10, 7, 5], { rtol: 1e-12 });
  for (let i = 0; i < 3; i++) {
    assertClose(Math.abs(dot(res.vectors[i], s.q[i])), 1, { atol: 1e-12 });
    assertClose(dot(res.vectors[i], res.vectors[i]), 1, { atol: 1e-14 });
    // The residual stopping rule is actually met, by an independent computation.
    const r = trueResidual(s, res.vectors[i], res.values[i]);
    assert(r <= tol * 10, `residual ${r}`);
    assertClose(res.residuals[i], r, { rtol: 1e-3, atol: 1e-14 });
  }
});

Deno.test("lanczos: a loose tolerance stops earlier, and its residuals still meet it", async () => {
  const s = matrixWithSpectrum(spectrum([10, 9], 80, 0, 8.5), 2);
  const loose = await lanczos(matvecOf(s), 80, { k: 2, tol: 1e-4, seed: 1 });
  const tight = await lanczos(matvecOf(s), 80, { k: 2, tol: 1e-11, seed: 1 });
  assert(loose.converged && tight.converged);
  assert(loose.iterations < tight.iterations, `${loose.iterations} vs ${tight.iterations}`);
  for (let i = 0; i < 2; i++) {
    assert(trueResidual(s, loose.vectors[i], loose.values[i]) <= 1e-4 * 10);
    assert(trueResidual(s, tight.vectors[i], tight.values[i]) <= 1e-11 * 10);
  }
  assertClose(tight.values, [10, 9], { rtol: 1e-12 });
});

Deno.test("lanczos: maxIter too small reports converged = false", async () => {
  const s = matrixWithSpectrum(spectrum([10, 9.99], 50, 0, 9.9), 4);
  const res = await lanczos(matvecOf(s), 50, { k: 1, tol: 1e-12, maxIter: 5 });
  assert(!res.converged);
  assert(res.iterations === 5);
  assert(res.residuals[0] > 1e-12 * 10);
});

Deno.test("lanczos: clustered eigenvalues resolve, and the cluster's span is found", async () => {
  const top = [5, 5 - 1e-3, 5 - 2e-3];
  const s = matrixWithSpectrum(spectrum(top, 40, 0, 3), 5);
  const res = await lanczos(matvecOf(s), 40, { k: 3, tol: 1e-10, seed: 2 });
  assert(res.converged);
  assertClose(res.values, top, { rtol: 1e-12 });
  // Each computed vector lies in span(q1, q2, q3): the projection has norm 1.
  for (const v of res.vectors) {
    const proj2 = top.reduce((acc, _, i) => acc + dot(v, s.q[i]) ** 2, 0);
    assertClose(proj2, 1, { atol: 1e-10 });
  }
});

Deno.test("lanczos: a degenerate eigenvalue needs blockSize ≥ multiplicity, and then all copies appear", async () => {
  const top = [6, 6, 6];
  const n = 120;
  const s = matrixWithSpectrum(spectrum(top, n, 0, 4), 6);
  // One start vector: the Krylov space meets the 3-dimensional eigenspace in one line only; other
  // copies surface only through amplified rounding, so at a loose tolerance one is missed.
  const single = await lanczos(matvecOf(s), n, { k: 3, tol: 1e-4 });
  assert(single.values[2] < 4, `single-vector Lanczos found all copies: ${single.values}`);
  const loose = await lanczos(matvecOf(s), n, { k: 3, tol: 1e-4, blockSize: 3, seed: 8 });
  assertClose(loose.values, top, { rtol: 1e-7 });
  const block = await lanczos(matvecOf(s), n, { k: 3, tol: 1e-10, blockSize: 3, seed: 8 });
  assert(block.iterations < (2 * n) / 3, `block used ${block.iterations} matvecs`);
  assert(block.converged);
  assertClose(block.values, top, { rtol: 1e-12 });
  for (let i = 0; i < 3; i++) {
    const proj2 = top.reduce((acc, _, j) => acc + dot(block.vectors[i], s.q[j]) ** 2, 0);
    assertClose(proj2, 1, { atol: 1e-10 });
    for (let j = 0; j < i; j++) {
      assertClose(dot(block.vectors[i], block.vectors[j]), 0, { atol: 1e-10 });
    }
  }
});

Deno.test("lanczos and lambdaM: rank-deficient PSD matrix; λ_M is the smallest non-zero eigenvalue", async () => {
  const nonzero = [9, 4, 2.5, 1.5, 0.7];
  const n = 25;
  const eig = [...nonzero, ...new Array(n - nonzero.length).fill(0)];
  const s = matrixWithSpectrum(eig, 7);
  const counter = { n: 0 };
  const lm = await lambdaM(matvecOf(s, counter), n, { m: 5, tol: 1e-10, seed: 4 });
  assertClose(lm, 0.7, { rtol: 1e-10 });
  // The Krylov space of a rank-5 operator is exhausted after ~6 vectors; random restarts continue.
  const res = await lanczos(matvecOf(s), n, { k: 7, tol: 1e-10, seed: 4 });
  assert(res.converged);
  assertClose(res.values, [...nonzero, 0, 0], { rtol: 1e-12, atol: 1e-12 });
  for (let i = 0; i < 5; i++) {
    assertClose(Math.abs(dot(res.vectors[i], s.q[i])), 1, { atol: 1e-10 });
  }
});

Deno.test("lanczos: top eigenvalues are algebraically largest when the spectrum has negatives", async () => {
  const s = matrixWithSpectrum([1, 0.5, -20, -30, 0.1, -0.2], 9);
  const res = await lanczos(matvecOf(s), 6, { k: 2, tol: 1e-10 });
  assertClose(res.values, [1, 0.5], { rtol: 1e-12 });
  assert(res.converged);
});

Deno.test("lanczos: the zero operator and dimension 1", async () => {
  const zero = await lanczos((_v, out) => void out.fill(0), 4, { k: 2 });
  assertClose(zero.values, [0, 0]);
  assert(zero.converged);
  const one = await lanczos((v, out) => {
    out[0] = -3 * v[0];
  }, 1);
  assertClose(one.values, [-3]);
  assertClose(one.vectors[0], [1]);
});

Deno.test("lanczos: same seed gives the same result; bad arguments are rejected", async () => {
  const s = matrixWithSpectrum(spectrum([3, 2], 20, 0, 1), 10);
  const a = await lanczos(matvecOf(s), 20, { k: 2, seed: 11, tol: 1e-6 });
  const b = await lanczos(matvecOf(s), 20, { k: 2, seed: 11, tol: 1e-6 });
  assertClose(a.values, b.values, { rtol: 0 });
  assertClose(a.vectors[0], b.vectors[0], { rtol: 0 });
  await assertRejects(() => lanczos(matvecOf(s), 20, { k: 21 }), /k must be/);
  await assertRejects(() => lanczos(matvecOf(s), 20, { k: 3, maxIter: 2 }), /maxIter/);
  await assertRejects(() => lanczos(matvecOf(s), 20, { start: new Float64Array(3) }), /start/);
});
