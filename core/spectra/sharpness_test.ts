import { assert, assertClose } from "../../testing/assert.ts";
import { sharpnessAsc, sharpnessAvg, sharpnessMax } from "./sharpness.ts";
import { denseMul, matrixWithSpectrum, quadraticsOracle } from "./testing_oracles.ts";

const quad = (a: Float64Array, n: number, x: ArrayLike<number>) => {
  const ax = new Float64Array(n);
  denseMul(a, n, Float64Array.from(x), ax);
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * ax[i];
  return s / 2;
};

Deno.test("sharpnessMax: (ρ²/2)λ1 at the minimizer of a quadratic", async () => {
  const s = matrixWithSpectrum([3, 2.5, 1, 0.2, 0, 0], 1);
  const oracle = quadraticsOracle([s.a], s.n);
  for (const rho of [0.5, 0.01]) {
    const res = await sharpnessMax(oracle, new Float64Array(s.n), {
      rho,
      randomStarts: 2,
      seed: 3,
    });
    assertClose(res.value, rho * rho / 2 * 3, { rtol: 1e-9 });
    assertClose(Math.abs(res.v.reduce((acc, vi, i) => acc + vi * s.q[0][i], 0)), 1, { atol: 1e-4 });
  }
});

Deno.test("sharpnessMax: matches a brute-force maximum over a fine grid of the 2-D ball", async () => {
  const s = matrixWithSpectrum([4, 0.5], 2);
  const oracle = quadraticsOracle([s.a], 2);
  for (const [x, rho] of [[[0.3, -0.2], 0.1], [[1, 1], 0.5], [[0.02, 0.05], 0.3]] as const) {
    const res = await sharpnessMax(oracle, Float64Array.from(x), { rho });
    const l0 = quad(s.a, 2, x);
    let grid = -Infinity;
    // ½(x+ρv)ᵀA(x+ρv) is convex in v, so its maximum over the ball lies on the circle.
    const n = 200_000;
    const [a, b, d] = [s.a[0], s.a[1], s.a[3]];
    for (let j = 0; j < n; j++) {
      const t = 2 * Math.PI * j / n;
      const y0 = x[0] + rho * Math.cos(t), y1 = x[1] + rho * Math.sin(t);
      grid = Math.max(grid, (a * y0 * y0 + 2 * b * y0 * y1 + d * y1 * y1) / 2 - l0);
    }
    // Grid spacing 3e-5 rad: the grid maximum is below the true one by ≲ 1e-9 relative.
    assert(res.value >= grid - 1e-12, `ascent ${res.value} below grid ${grid}`);
    assertClose(res.value, grid, { rtol: 1e-8 });
  }
});

Deno.test("sharpnessAsc: closed form ρ‖Ax‖ + (ρ²/2)·xᵀA³x/‖Ax‖² on a quadratic", async () => {
  const s = matrixWithSpectrum([5, 2, 1, 0.1], 3);
  const oracle = quadraticsOracle([s.a], s.n);
  const x = new Float64Array([0.4, -0.1, 0.7, 0.2]), rho = 0.05;
  const ax = new Float64Array(4), a2x = new Float64Array(4);
  denseMul(s.a, 4, x, ax);
  denseMul(s.a, 4, ax, a2x);
  const nAx = Math.hypot(...ax);
  const xA3x = ax.reduce((acc, v, i) => acc + v * a2x[i], 0);
  const expected = rho * nAx + rho * rho / 2 * xA3x / (nAx * nAx);
  assertClose(await sharpnessAsc(oracle, x, { rho }), expected, { rtol: 1e-12 });
  // At the minimizer ĝ = e₁: R^Asc = (ρ²/2)A₁₁.
  assertClose(await sharpnessAsc(oracle, new Float64Array(4), { rho }), rho * rho / 2 * s.a[0], {
    rtol: 1e-12,
  });
});

Deno.test("sharpnessAvg: (ρ²/(2D))·Tr(A) within 3 standard errors, at and away from the minimizer", async () => {
  const eig = [6, 3, 1, 0.5, 0.25, 0, 0, 0];
  const s = matrixWithSpectrum(eig, 4);
  const oracle = quadraticsOracle([s.a], s.n);
  const rho = 0.1, expected = rho * rho / (2 * s.n) * eig.reduce((a, b) => a + b);
  for (
    const x of [
      new Float64Array(s.n),
      Float64Array.from({ length: s.n }, (_, i) => (i - 3) / 4),
    ]
  ) {
    const res = await sharpnessAvg(oracle, x, { rho, samples: 400, seed: 9 });
    assert(res.se > 0 && res.se < expected / 10, `se ${res.se}`);
    assert(
      Math.abs(res.estimate - expected) <= 3 * res.se,
      `${res.estimate} vs ${expected} (se ${res.se})`,
    );
  }
});
