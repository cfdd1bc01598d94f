import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { createF64Problem, makeDataset } from "./registry.ts";
import { sanity2dPhi } from "./sanity2d.ts";

const p = createF64Problem(makeDataset({ kind: "sanity2d" }, { seed: 0 }));

/** Oracle: the gradient flow ẋ = −∇L(x) integrated with classical RK4 (step h) for time T. */
function flow(x0: readonly number[], h: number, T: number): Float64Array {
  const x = Float64Array.from(x0), k = [0, 1, 2, 3].map(() => new Float64Array(2));
  const tmp = new Float64Array(2);
  const f = (y: Float64Array, out: Float64Array) => {
    const r = y[0] * y[1] - 1; // written out here rather than calling p.grad
    out[0] = -r * y[1];
    out[1] = -r * y[0];
  };
  for (let t = 0; t < T / h; t++) {
    f(x, k[0]);
    for (let i = 0; i < 2; i++) tmp[i] = x[i] + 0.5 * h * k[0][i];
    f(tmp, k[1]);
    for (let i = 0; i < 2; i++) tmp[i] = x[i] + 0.5 * h * k[1][i];
    f(tmp, k[2]);
    for (let i = 0; i < 2; i++) tmp[i] = x[i] + h * k[2][i];
    f(tmp, k[3]);
    for (let i = 0; i < 2; i++) x[i] += (h / 6) * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
  }
  return x;
}

Deno.test("sanity2d: Φ matches the RK4-integrated gradient flow from points on every branch", () => {
  const starts = [
    [2, 0.3], // c > 0, x1 > 0, p < 1
    [-3, 0.5], // c > 0, x1 < 0, p < 0: the flow crosses x2 = 0
    [0.2, -2.5], // c < 0, x2 < 0
    [0.4, 1.7], // c < 0, x2 > 0
    [2.5, 1.5], // p > 1: descends to Γ from above
    [0.6, 0.6], // c = 0 on x1 = x2
    [-0.2, 3], // c < 0 with x1 < 0 < x2: x1 changes sign on the way
  ];
  for (const x0 of starts) {
    const end = flow(x0, 1e-3, 40);
    const phi = sanity2dPhi(x0);
    assertClose(phi, end, { rtol: 1e-9, atol: 1e-9, msg: `Φ(${x0})` });
    assertClose(phi[0] * phi[1], 1, { rtol: 1e-14 });
    assertClose(phi[0] ** 2 - phi[1] ** 2, x0[0] ** 2 - x0[1] ** 2, { rtol: 1e-13, atol: 1e-14 });
  }
});

Deno.test("sanity2d: Φ fixes Γ, sends the anti-diagonal to the saddle; Hessian on Γ is {0, x1²+x2²}", () => {
  for (const a of [0.5, 1, -2, 3]) {
    const x = Float64Array.of(a, 1 / a);
    assertClose(p.phi!(x), x, { rtol: 1e-15 });
    const h = p.hessian!(x);
    const tr = h[0] + h[3], det = h[0] * h[3] - h[1] * h[2];
    assertClose(tr, a * a + 1 / (a * a), { rtol: 1e-15 });
    assertClose(det, 0, { atol: 1e-14 });
  }
  assertEquals(Array.from(sanity2dPhi([0.7, -0.7])), [0, 0]);
  assertClose(flow([0.7, -0.7], 1e-2, 40), [0, 0], { atol: 1e-12 });
  assert(p.numSamples === 1 && p.dim === 2);
});
