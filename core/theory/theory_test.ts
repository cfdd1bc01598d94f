import { assert, assertClose, assertThrows } from "../../testing/assert.ts";
import { F64Ops } from "../engine/f64.ts";
import { oracleFrom } from "../engine/oracle.ts";
import { createF64Problem, makeDataset } from "../problems/registry.ts";
import { phi } from "../spectra/manifold.ts";
import { sharpnessMax } from "../spectra/sharpness.ts";
import { rk4 } from "./ode.ts";
import {
  maxSharpnessFiniteEta,
  maxSharpnessOnFlow,
  samLimitNorm,
  usamStable,
} from "./quadratic.ts";
import { toyCoefficients, toyOneSamFlow, toyPhi, toySamFlow, toyTargets } from "./toy4d_flows.ts";

Deno.test("rk4: ẏ = −y and the harmonic oscillator against their closed forms", () => {
  assertClose(rk4(([y]) => [-y], [2], 3, 300)[0], 2 * Math.exp(-3), { rtol: 1e-9 });
  const [c, s] = rk4(([u, v]) => [-v, u], [1, 0], 2, 400);
  assertClose([c, s], [Math.cos(2), Math.sin(2)], { atol: 1e-10 });
  assertThrows(() => rk4(([y]) => [y], [1], 1, 0), /n must be an integer/);
});

Deno.test("samLimitNorm: the 2-cycle of the 1-D SAM map x ← x − ηλ(x + ρ sign x)", () => {
  assertClose(samLimitNorm(0.1, 0.05, 4), 0.0125, { rtol: 1e-15 }); // docs/theory.md §3
  for (const [lr, rho, lam] of [[0.1, 0.05, 4], [0.02, 0.3, 7], [0.5, 0.01, 1.9]]) {
    let x = 0.37;
    for (let t = 0; t < 20000; t++) x -= lr * lam * (x + rho * Math.sign(x));
    assertClose(Math.abs(x), samLimitNorm(lr, rho, lam), { rtol: 1e-9 });
  }
  assertThrows(() => samLimitNorm(1, 0.1, 2), /ηλ1 < 2/);
  assertThrows(() => samLimitNorm(-1, 0.1, 2), /lr must be/);
});

Deno.test("Cor 4.6 sharpness: R^Max of a quadratic at the SAM 2-cycle point (independent ascent)", async () => {
  const lams = [3, 1, 0.5];
  const obj = createF64Problem(
    makeDataset({ kind: "quadratic", eigenvalues: lams, rotate: false }, { seed: 0 }),
  );
  const oracle = oracleFrom(new F64Ops(3), obj);
  const lr = 0.1, rho = 0.02;
  // On Γ = {0}: exactly (ρ²/2)λ1. At the 2-cycle point d·v1: the finite-η value.
  const at = async (x: number[]) =>
    (await sharpnessMax(oracle, Float64Array.from(x), { rho, seed: 1 })).value;
  assertClose(await at([0, 0, 0]), maxSharpnessOnFlow(rho, 3), { rtol: 1e-6 });
  const d = samLimitNorm(lr, rho, 3);
  assertClose(await at([d, 0, 0]), maxSharpnessFiniteEta(lr, rho, 3), { rtol: 1e-6 });
  // The two differ by the factor (2 + ηλ1)/(2 − ηλ1) = 2.3/1.7, so the check discriminates.
  assert(maxSharpnessFiniteEta(lr, rho, 3) / maxSharpnessOnFlow(rho, 3) > 1.3);
});

Deno.test("usamStable: the threshold ηλ(1 + ρλ) = 2 by iterating USAM on ½λx²", () => {
  const iterate = (lr: number, rho: number, lam: number) => {
    let x = 1;
    for (let t = 0; t < 3000; t++) x -= lr * lam * (x + rho * lam * x);
    return Math.abs(x);
  };
  for (const [lr, rho, lam] of [[0.3, 0.1, 4], [0.4, 0.1, 4], [0.1, 1, 3], [0.1, 2, 3]]) {
    assert(usamStable(lr, rho, lam) === iterate(lr, rho, lam) < 1e-3, `${lr} ${rho} ${lam}`);
  }
  assert(usamStable(0.3, 0.1, 4) && !usamStable(0.4, 0.1, 4));
});

Deno.test("toyTargets match the minimizers of F1, F2, F1 + F2 found by grid search", () => {
  for (const family of ["paper", "shifted"] as const) {
    const c = toyCoefficients(family);
    const t = toyTargets(family);
    const argmin = (f: (x: number[]) => number) => {
      let best = [0, 0], val = Infinity;
      for (let i = -300; i <= 300; i++) {
        for (let j = -300; j <= 300; j++) {
          const x = [i / 150, j / 150], v = f(x);
          if (v < val) [best, val] = [x, v];
        }
      }
      return best;
    };
    assertClose(t.lambda1, argmin(c.f1), { atol: 1e-2 });
    assertClose(t.lambdaM, argmin(c.f2), { atol: 1e-2 });
    assertClose(t.trace, argmin((x) => c.f1(x) + c.f2(x)), { atol: 1e-2 });
  }
});

Deno.test("toy flows at η → 0 match their closed forms (both families)", () => {
  const X0 = [1, 1], tau = 1.7;
  for (const family of ["paper", "shifted"] as const) {
    const t = toyTargets(family);
    // −½∇F1 = −(X − c1): X(τ) = c1 + (X0 − c1)e^{−τ}.
    const sam = t.lambda1.map((c, i) => c + (X0[i] - c) * Math.exp(-tau));
    assertClose(toySamFlow(family, X0, tau), sam, { atol: 1e-10 });
    // −½∇(F1 + F2) = −(3/2)(X − (2c1 + c2)/3): X(τ) = c + (X0 − c)e^{−1.5τ}.
    const one = t.trace.map((c, i) => c + (X0[i] - c) * Math.exp(-1.5 * tau));
    assertClose(toyOneSamFlow(family, X0, tau), one, { atol: 1e-10 });
  }
  // docs/theory.md §7, family paper: 1-SAM x1 = −1/3 + (a0 + 1/3)e^{−1.5τ}.
  assertClose(toyOneSamFlow("paper", [0.5, 0], 1)[0], -1 / 3 + (0.5 + 1 / 3) * Math.exp(-1.5), {
    rtol: 1e-10,
  });
});

Deno.test("corrected SAM flow, family paper, against its implicit closed form", () => {
  // Radial ODE r' = −r(A − Bs)⁻², s = r², A = 1 − 3η/2, B = η/2: separating variables,
  // G(s) = ½A² ln s − ABs + B²s²/4 decreases by exactly τ. Solve G(s) = G(s0) − τ by bisection.
  const lr = 0.05, tau = 1.3, X0 = [0.8, 0.6];
  const A = 1 - 1.5 * lr, B = lr / 2;
  const G = (s: number) => 0.5 * A * A * Math.log(s) - A * B * s + B * B * s * s / 4;
  const s0 = X0[0] ** 2 + X0[1] ** 2, target = G(s0) - tau;
  let lo = 1e-12, hi = s0;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (G(mid) > target) hi = mid;
    else lo = mid;
  }
  const r = Math.sqrt(lo) / Math.sqrt(s0);
  assertClose(toySamFlow("paper", X0, tau, { lr }), [X0[0] * r, X0[1] * r], { rtol: 1e-9 });
  // The correction matters at this η (otherwise the test could not tell them apart).
  const plain = toySamFlow("paper", X0, tau);
  assert(Math.abs(plain[0] - X0[0] * r) > 0.01);
});

Deno.test("corrected 1-SAM flow: first-order in η, rate (1 + 2ηF_k) per sample", () => {
  // d/dη of the corrected rate at η = 0 is −½Σ 2F_k∇F_k: compare a central difference in η of
  // one short flow with that derivative integrated by Euler over a tiny τ.
  const X0 = [0.4, -0.7], tau = 1e-4, h = 1e-3;
  const c = toyCoefficients("shifted");
  const dFlow = toyOneSamFlow("shifted", X0, tau, { lr: h }).map((v, i) =>
    (v - toyOneSamFlow("shifted", X0, tau, { lr: -h })[i]) / (2 * h)
  );
  const g1 = c.gradF1(X0), g2 = c.gradF2(X0);
  const expected = [0, 1].map((i) => -tau * (c.f1(X0) * g1[i] + c.f2(X0) * g2[i]));
  assertClose(dFlow, expected, { rtol: 1e-3 });
});

Deno.test("toyPhi agrees with the Dormand–Prince Φ of core/spectra on the toy problem", async () => {
  for (const family of ["paper", "shifted"] as const) {
    const obj = createF64Problem(makeDataset({ kind: "toy4d", family }, { seed: 0 }));
    const oracle = oracleFrom(new F64Ops(4), obj);
    for (const x0 of [[1, 1, 0.3, 0.3], [-1.5, 0.5, 0.5, -0.4]]) {
      const ref = await phi(oracle, Float64Array.from(x0), { gradTol: 1e-12 });
      assertClose(toyPhi(family, x0), Array.from(ref.x), { atol: 1e-7 });
    }
  }
});
