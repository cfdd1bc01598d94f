import { assert, assertClose } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { createF64Problem, initialPoint, makeDataset } from "../problems/registry.ts";
import { gaussNewtonProjection, gramEigenvalues, type ResidualModel } from "./gauss_newton.ts";
import { phi } from "./manifold.ts";
import { symmetricEigen } from "./linalg.ts";
import type { F64Problem } from "../problems/types.ts";

function linearModel(a: Float64Array, m: number, n: number, b: Float64Array): ResidualModel {
  return {
    dim: n,
    numSamples: m,
    residuals(x, out) {
      for (let k = 0; k < m; k++) {
        let s = -b[k];
        for (let i = 0; i < n; i++) s += a[k * n + i] * x[i];
        out[k] = s;
      }
    },
    jacobian(_x, out) {
      out.set(a);
    },
  };
}

function asOracle(p: F64Problem) {
  return {
    dim: p.dim,
    numSamples: p.numSamples,
    loss: (x: Float64Array) => Promise.resolve(p.loss(x)),
    grad: (x: Float64Array, out: Float64Array) => Promise.resolve(p.grad(x, out)),
    hvp: (x: Float64Array, v: Float64Array, out: Float64Array) => Promise.resolve(p.hvp(x, v, out)),
  };
}

Deno.test("gaussNewtonProjection: a linear model lands on the orthogonal projection x0 − Aᵀ(AAᵀ)⁻¹(Ax0 − b)", () => {
  const m = 4, n = 9, rng = new Rng(2);
  const a = rng.fillNormal(new Float64Array(m * n)), b = rng.fillNormal(new Float64Array(m));
  const x0 = rng.fillNormal(new Float64Array(n));
  const res = gaussNewtonProjection(linearModel(a, m, n, b), x0);
  assert(res.converged);
  // Oracle: the projection via the eigendecomposition of AAᵀ (independent of the Cholesky solve).
  const gram = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      for (let l = 0; l < n; l++) gram[i * m + j] += a[i * n + l] * a[j * n + l];
    }
  }
  const eig = symmetricEigen(gram, m);
  const r = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    r[k] = -b[k];
    for (let l = 0; l < n; l++) r[k] += a[k * n + l] * x0[l];
  }
  const w = new Float64Array(m);
  eig.vectors.forEach((q, i) => {
    let c = 0;
    for (let k = 0; k < m; k++) c += q[k] * r[k];
    for (let k = 0; k < m; k++) w[k] += (c / eig.values[i]) * q[k];
  });
  const expected = x0.slice();
  for (let k = 0; k < m; k++) {
    for (let l = 0; l < n; l++) expected[l] -= a[k * n + l] * w[k];
  }
  assertClose(res.x, expected, { atol: 1e-12 });
});

Deno.test("gaussNewtonProjection: near Γ of a Setting 5.1 MLP it agrees with the flow's Φ to O(‖x − Φ‖²)", async () => {
  const ds = makeDataset(
    { kind: "mlp", source: "teacher", hidden: 4, activation: "tanh", n: 6, d: 3, teacherHidden: 2 },
    { seed: 1 },
  );
  const p = createF64Problem(ds);
  const oracle = asOracle(p);
  // A point on Γ (flow from the default start), pushed off it by ε along a fixed direction.
  const base = await phi(oracle, initialPoint(ds, { seed: 0 }), { gradTol: 1e-12 });
  assert(base.converged);
  const dir = new Rng(4).fillSphere(new Float64Array(p.dim));
  const gaps: number[] = [];
  for (const eps of [1e-2, 1e-3]) {
    const x = base.x.map((v, i) => v + eps * dir[i]);
    const flow = await phi(oracle, x, { gradTol: 1e-12 });
    const gn = gaussNewtonProjection(p as Required<F64Problem>, x);
    assert(flow.converged && gn.converged);
    const r = new Float64Array(p.numSamples);
    p.residuals!(gn.x, r);
    assert(Math.max(...r.map(Math.abs)) < 1e-11, "GN end point interpolates");
    gaps.push(Math.hypot(...gn.x.map((v, i) => v - flow.x[i])));
  }
  // Second order: ten times closer gives ≈ a hundred times smaller gap.
  assert(gaps[1] < gaps[0] / 30, `gaps ${gaps}`);
});

Deno.test("gramEigenvalues: on Γ they are the M non-zero eigenvalues of the dense Hessian (diagnet)", async () => {
  const ds = makeDataset({ kind: "diagnet", n: 5, d: 8, k: 2, nTest: 0 }, { seed: 3 });
  const p = createF64Problem(ds);
  const x0 = initialPoint(ds, { seed: 0, scale: 0.5 });
  const flow = await phi(asOracle(p), x0, { gradTol: 1e-13 });
  assert(flow.converged);
  const gram = gramEigenvalues(p as Required<F64Problem>, flow.x, p.gaussNewtonScale!);
  const dense = symmetricEigen(p.hessian!(flow.x), p.dim).values;
  assertClose(gram, dense.slice(0, 5), { rtol: 1e-8, atol: 1e-12 });
  // Rank M: the rest vanish (up to the residual left by gradTol).
  assert(Math.abs(dense[5]) < 1e-9 * dense[0], `λ_{M+1} = ${dense[5]}`);
});
