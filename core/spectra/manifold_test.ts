import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { distToManifold, phi } from "./manifold.ts";
import { matrixWithSpectrum, quadraticsOracle, sanityOracle } from "./testing_oracles.ts";

Deno.test("phi: positive definite quadratic flows to 0; distance is ‖x‖", async () => {
  const s = matrixWithSpectrum([5, 2, 1, 0.3], 1);
  const oracle = quadraticsOracle([s.a], s.n);
  const x0 = new Float64Array([1, -2, 0.5, 3]);
  const res = await phi(oracle, x0, { gradTol: 1e-10 });
  assert(res.converged);
  // ‖x‖ ≤ ‖∇L‖/λ_min at the end.
  assertClose(Array.from(res.x), [0, 0, 0, 0], { atol: 1e-10 / 0.3 });
  assert(res.gradNorm < 1e-10);
  assertEquals(res.gradEvals, 1 + 6 * res.steps);
  assertClose(await distToManifold(oracle, x0, { gradTol: 1e-10 }), Math.hypot(...x0), {
    rtol: 1e-9,
  });
});

Deno.test("phi: PSD quadratic flows to the projection of x onto the kernel", async () => {
  const s = matrixWithSpectrum([10, 3, 0.5, 0, 0, 0], 2);
  const oracle = quadraticsOracle([s.a], s.n);
  const x0 = new Float64Array([0.3, -1, 2, 0.7, -0.4, 1.1]);
  // x(t) = Σ_i e^{−λ_i t} ⟨x0, q_i⟩ q_i → Σ_{λ_i = 0} ⟨x0, q_i⟩ q_i.
  const expected = new Float64Array(s.n);
  for (let i = 3; i < 6; i++) {
    let c = 0;
    for (let j = 0; j < s.n; j++) c += x0[j] * s.q[i][j];
    for (let j = 0; j < s.n; j++) expected[j] += c * s.q[i][j];
  }
  const res = await phi(oracle, x0, { gradTol: 1e-11 });
  assert(res.converged);
  assertClose(res.x, expected, { atol: 1e-9 });
});

Deno.test("phi: ½(1 − x1x2)² flows to x1x2 = 1 conserving x1² − x2², keeping the dominant sign", async () => {
  const oracle = sanityOracle();
  const starts = [[2, 0.3], [-1.5, -0.2], [0.3, 2.5], [1, -0.5], [-0.4, 3], [0.1, 0.1]];
  for (const [a, b] of starts) {
    const res = await phi(oracle, new Float64Array([a, b]), { gradTol: 1e-12 });
    assert(res.converged, `start (${a}, ${b}) did not converge`);
    // Closed form: x1² − x2² = c and x1x2 = 1 give x1² = (c + √(c² + 4))/2.
    const c = a * a - b * b;
    const big = Math.sqrt((c + Math.sqrt(c * c + 4)) / 2);
    // x1 cannot change sign when c > 0 (x1² ≥ c), nor x2 when c < 0.
    const x1 = c >= 0
      ? Math.sign(a) * big
      : Math.sign(b) / Math.sqrt((-c + Math.sqrt(c * c + 4)) / 2);
    const expected = [x1, 1 / x1];
    assertClose(res.x, expected, { rtol: 1e-8, msg: `start (${a}, ${b})` });
  }
});

Deno.test("phi: reports non-convergence when the step cap is hit; auto hands a stiff flow over", async () => {
  const s = matrixWithSpectrum([100, 0.01], 3);
  const oracle = quadraticsOracle([s.a], s.n);
  const x0 = new Float64Array([1, 1]);
  const explicit = await phi(oracle, x0, { maxSteps: 10, method: "explicit" });
  assertEquals([explicit.converged, explicit.steps, explicit.method], [false, 10, "explicit"]);
  const opts = { maxSteps: 10, method: "explicit" as const };
  assert(Number.isNaN(await distToManifold(oracle, x0, opts)));
  const capped = await phi(oracle, x0, { maxSteps: 10, stiffMaxSteps: 1 });
  assertEquals([capped.converged, capped.steps, capped.method], [false, 11, "stiff"]);
  // Auto: 10 explicit steps, then the stiff solver to the limit 0; time and steps add up.
  const auto = await phi(oracle, x0, { maxSteps: 10 });
  assert(auto.converged && auto.method === "stiff" && auto.steps > 10 && auto.hvpEvals > 0);
  assert(auto.time > explicit.time);
  assertClose(auto.x, [0, 0], { atol: 1e-9 / 0.01 });
});

Deno.test("phi: a point already on Γ is its own limit, with one gradient", async () => {
  const res = await phi(sanityOracle(), new Float64Array([2, 0.5]));
  assertEquals([res.converged, res.steps, res.gradEvals], [true, 0, 1]);
  assertClose(res.x, [2, 0.5], { rtol: 0 });
});
