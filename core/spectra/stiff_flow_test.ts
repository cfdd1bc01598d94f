import { assert, assertClose } from "../../testing/assert.ts";
import { phi } from "./manifold.ts";
import { phi1, phi3, stiffFlow } from "./stiff_flow.ts";
import { createF64Problem, makeDataset } from "../problems/registry.ts";
import {
  leastSquaresOracle,
  matrixWithSpectrum,
  quadraticsOracle,
  randomOrthonormal,
  sanityOracle,
} from "./testing_oracles.ts";
import { Rng } from "../rng.ts";

/** ∫₀¹ e^{(1−s)z} w(s) ds by composite Simpson on 2000 panels (the integral forms of φ₁, φ₃). */
function simpson(z: number, w: (s: number) => number): number {
  const n = 2000;
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const s = i / n, c = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
    sum += c * Math.exp((1 - s) * z) * w(s);
  }
  return sum / (3 * n);
}

Deno.test("phi1, phi3: match their integral forms, across the series/closed-form switch", () => {
  for (const z of [-1e6, -300, -20, -1, -0.51, -0.49, -1e-3, 0, 1e-7, 0.3, 0.5, 2]) {
    if (Math.abs(z) > 100) {
      assertClose(phi1(z), -1 / z, { rtol: 1e-10 });
      assertClose(phi3(z), (-1 / z) * (1 + z + z * z / 2) / (z * z), { rtol: 1e-10 });
      continue;
    }
    assertClose(phi1(z), simpson(z, () => 1), { rtol: 1e-10, msg: `φ1(${z})` });
    assertClose(phi3(z), simpson(z, (s) => s * s / 2), { rtol: 1e-10, msg: `φ3(${z})` });
  }
});

// Eigenvalues over 8 decades plus a zero block: the explicit pair needs ≈ 1e8 steps here.
const STIFF = [1e2, 1e1, 1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 0, 0, 0];

function closedForm(
  s: { q: Float64Array[]; eigenvalues: Float64Array },
  x0: Float64Array,
  t: number,
) {
  const out = new Float64Array(x0.length);
  s.q.forEach((q, i) => {
    let c = 0;
    for (let j = 0; j < x0.length; j++) c += q[j] * x0[j];
    c *= s.eigenvalues[i] === 0 ? 1 : Math.exp(-s.eigenvalues[i] * t);
    for (let j = 0; j < x0.length; j++) out[j] += c * q[j];
  });
  return out;
}

Deno.test("stiffFlow: stiff quadratic (8 decades, zero block) follows e^{−λt} at every time, dense and Krylov", async () => {
  const s = matrixWithSpectrum(STIFF, 4);
  const oracle = quadraticsOracle([s.a], s.n);
  const x0 = new Rng(1).fillNormal(new Float64Array(s.n));
  for (const denseUpTo of [256, 0]) {
    for (const t of [0.01, 1, 1e3, 1e6]) {
      const res = await stiffFlow(oracle, x0, { timeLimit: t, denseUpTo, krylovDim: 12 });
      assert(res.converged);
      assertClose(res.time, t, { rtol: 1e-12 });
      // 1e-8: the eigenvectors of λ = 1e-6 and λ = 0 are only determined to ≈ 1e-16·λ1/1e-6.
      assertClose(res.x, closedForm(s, x0, t), {
        atol: 1e-8,
        msg: `t = ${t}, dense ≤ ${denseUpTo}`,
      });
    }
  }
  // To the limit: the projection onto the kernel, by the stiff solver (auto hands over to it).
  // gradTol 1e-11 leaves at most 1e-11/λ_min = 1e-5 in the slowest mode.
  const res = await phi(oracle, x0, { gradTol: 1e-11 });
  assert(res.converged && res.method === "stiff", `method ${res.method}`);
  assertClose(res.x, closedForm(s, x0, Infinity), { atol: 1e-5 });
});

Deno.test("stiffFlow (Krylov, basis < D): D = 60, 8 decades and a zero block, against e^{−λt}", async () => {
  const eigenvalues = Array.from({ length: 60 }, (_, i) => (i < 50 ? 10 ** (2 - (8 * i) / 49) : 0));
  const s = matrixWithSpectrum(eigenvalues, 8);
  const oracle = quadraticsOracle([s.a], s.n);
  const x0 = new Rng(2).fillNormal(new Float64Array(s.n));
  // A small basis cannot represent φ(−hH) for large hλ1, so its steps stay short but accurate.
  for (const [krylovDim, times] of [[64, [1, 1e3, 1e6]], [16, [1, 10]]] as const) {
    for (const t of times) {
      const res = await stiffFlow(oracle, x0, {
        timeLimit: t,
        denseUpTo: 0,
        krylovDim,
        maxSteps: 2000,
      });
      assert(res.converged, `t = ${t}, krylovDim ${krylovDim}: ${res.steps} steps`);
      assertClose(res.x, closedForm(s, x0, t), {
        atol: 1e-7,
        msg: `t = ${t}, krylovDim ${krylovDim}`,
      });
    }
  }
});

Deno.test("phi: underdetermined least squares ends at the orthogonal projection of x0 onto {Ax = b}", async () => {
  const m = 5, n = 12, rng = new Rng(7);
  // A = U diag(σ) Vᵀ with σ from 1 to 1e-3: Hessian AᵀA/M has eigenvalues 0.2 … 2e-7 and a kernel.
  const u = randomOrthonormal(m, 3), v = randomOrthonormal(n, 5);
  const sigma = [1, 0.3, 0.1, 0.01, 0.001];
  const a = new Float64Array(m * n);
  for (let k = 0; k < m; k++) {
    for (let r = 0; r < m; r++) {
      for (let i = 0; i < n; i++) a[r * n + i] += u[k][r] * sigma[k] * v[k][i];
    }
  }
  const b = rng.fillNormal(new Float64Array(m));
  const x0 = rng.fillNormal(new Float64Array(n));
  // Closed form: x* = x0 − A⁺(Ax0 − b), A⁺ = V diag(1/σ) Uᵀ.
  const expected = x0.slice();
  for (let k = 0; k < m; k++) {
    let c = 0;
    for (let r = 0; r < m; r++) {
      let ar = -b[r];
      for (let i = 0; i < n; i++) ar += a[r * n + i] * x0[i];
      c += u[k][r] * ar;
    }
    for (let i = 0; i < n; i++) expected[i] -= (c / sigma[k]) * v[k][i];
  }
  const oracle = leastSquaresOracle(a, m, n, b);
  for (const opts of [{}, { method: "stiff" as const, denseUpTo: 0 }]) {
    const res = await phi(oracle, x0, { gradTol: 1e-14, ...opts });
    assert(res.converged && res.method === "stiff");
    assertClose(res.x, expected, { atol: 1e-7, msg: JSON.stringify(opts) });
  }
});

Deno.test("phi (stiff): the 4-D toy's flow limit agrees with explicit RK4 at a tiny step", async () => {
  const p = createF64Problem(makeDataset({ kind: "toy4d", family: "paper" }, { seed: 0 }));
  const oracle = {
    dim: 4,
    numSamples: 2,
    loss: (x: Float64Array) => Promise.resolve(p.loss(x)),
    grad: (x: Float64Array, out: Float64Array) => Promise.resolve(p.grad(x, out)),
    hvp: (x: Float64Array, v: Float64Array, out: Float64Array) => Promise.resolve(p.hvp(x, v, out)),
  };
  for (const start of [[1, 1, 0.3, 0.3], [-0.5, 2, 1, -0.8]]) {
    // RK4, h = 1e-3, to t = 40 (λ ≥ 1 on Γ: the normal coordinates decay below e^{-40}).
    const y = Float64Array.from(start), k = Array.from({ length: 4 }, () => new Float64Array(4));
    const tmp = new Float64Array(4), h = 1e-3;
    const f = (at: Float64Array, out: Float64Array) => {
      p.grad(at, out);
      for (let i = 0; i < 4; i++) out[i] = -out[i];
    };
    for (let step = 0; step < 40_000; step++) {
      f(y, k[0]);
      for (let i = 0; i < 4; i++) tmp[i] = y[i] + h / 2 * k[0][i];
      f(tmp, k[1]);
      for (let i = 0; i < 4; i++) tmp[i] = y[i] + h / 2 * k[1][i];
      f(tmp, k[2]);
      for (let i = 0; i < 4; i++) tmp[i] = y[i] + h * k[2][i];
      f(tmp, k[3]);
      for (let i = 0; i < 4; i++) y[i] += h / 6 * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
    }
    const tight = await phi(oracle, Float64Array.from(start), {
      method: "stiff",
      stiffRtol: 1e-6,
      gradTol: 1e-12,
    });
    assert(tight.converged);
    assertClose(tight.x, y, { atol: 1e-7, msg: `start ${start}, rtol 1e-6` });
    const loose = await phi(oracle, Float64Array.from(start), { method: "stiff", gradTol: 1e-12 });
    assertClose(loose.x, y, { atol: 1e-4, msg: `start ${start}, default rtol` });
  }
});

Deno.test("phi (stiff): ½(1 − x1x2)² keeps x1² − x2² (closed form), dense and Krylov", async () => {
  for (const denseUpTo of [256, 0]) {
    for (const [a, b] of [[2, 0.3], [0.3, 2.5], [-1.5, -0.2]]) {
      const res = await phi(sanityOracle(), Float64Array.of(a, b), {
        method: "stiff",
        stiffRtol: 1e-6,
        gradTol: 1e-12,
        denseUpTo,
      });
      assert(res.converged);
      const c = a * a - b * b;
      const x1 = Math.sign(c >= 0 ? a : b) * Math.sqrt((c + Math.sqrt(c * c + 4)) / 2);
      assertClose(res.x, [x1, 1 / x1], { rtol: 1e-7, msg: `start (${a}, ${b})` });
    }
  }
});
