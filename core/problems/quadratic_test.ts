import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { createF64Problem, makeDataset } from "./registry.ts";

/** Oracle: eigenvalues of a symmetric matrix by cyclic Jacobi rotations, ascending. */
function jacobiEigenvalues(a: Float64Array, n: number): number[] {
  const m = a.slice();
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p], akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k], aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => m[i * n + i]).sort((x, y) => x - y);
}

Deno.test("quadratic: A has exactly the requested spectrum and is rotated, symmetric", () => {
  const eigenvalues = [4, 2, 1, 0.5, 0.5, -0.25, 0];
  const ds = makeDataset({ kind: "quadratic", eigenvalues }, { seed: 3 });
  const a = ds.arrays.A, n = eigenvalues.length;
  assertEquals(ds.shapes.A, [n, n]);
  assertClose(jacobiEigenvalues(a, n), eigenvalues.slice().sort((x, y) => x - y), {
    rtol: 1e-12,
    atol: 1e-13,
  });
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert(a[i * n + j] === a[j * n + i]);
  let off = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) off += a[i * n + j] ** 2;
  assert(off > 0.1, `rotation mixes the axes (off-diagonal mass ${off})`);
  // Q is orthogonal: QᵀQ = I.
  const q = ds.arrays.Q;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += q[r * n + i] * q[r * n + j];
      assertClose(s, i === j ? 1 : 0, { atol: 1e-14 });
    }
  }
});

Deno.test("quadratic: rotate false gives diag(λ); same seed same A, different seed different A", () => {
  const ds = makeDataset({ kind: "quadratic", eigenvalues: [3, 1], rotate: false }, { seed: 1 });
  assertEquals(Array.from(ds.arrays.A), [3, 0, 0, 1]);
  const spec = { kind: "quadratic" as const, eigenvalues: [3, 2, 1] };
  const a = makeDataset(spec, { seed: 5 }).arrays.A, b = makeDataset(spec, { seed: 5 }).arrays.A;
  const c = makeDataset(spec, { seed: 6 }).arrays.A;
  assertEquals(a, b);
  assert(a.some((v, i) => v !== c[i]));
});

Deno.test("quadratic: Φ is 0 for A ≻ 0, the null-space projection for A ⪰ 0, absent otherwise", () => {
  const x0 = Float64Array.of(0.3, -1, 2, 0.7);
  for (const eigenvalues of [[4, 2, 1, 0.5], [4, 0, 1, 0]]) {
    const p = createF64Problem(makeDataset({ kind: "quadratic", eigenvalues }, { seed: 2 }));
    assert(p.phi);
    // Oracle: gradient descent with a small step runs the flow to its limit.
    const x = x0.slice(), g = new Float64Array(4);
    for (let t = 0; t < 3000; t++) {
      p.grad(x, g);
      for (let i = 0; i < 4; i++) x[i] -= 0.05 * g[i];
    }
    assertClose(p.phi(x0), x, { atol: 1e-12 });
  }
  const indefinite = makeDataset({ kind: "quadratic", eigenvalues: [1, -1] }, { seed: 2 });
  assertEquals(createF64Problem(indefinite).phi, undefined);
});

Deno.test("two-quadratics: each A_k has its spectrum; top eigenvectors differ; Φ = 0 when ≻ 0", () => {
  const ds = makeDataset(
    { kind: "two-quadratics", eigenvalues1: [5, 1, 0.1], eigenvalues2: [4, 2, 0.3] },
    { seed: 4 },
  );
  assertClose(jacobiEigenvalues(ds.arrays.A1, 3), [0.1, 1, 5], { rtol: 1e-12 });
  assertClose(jacobiEigenvalues(ds.arrays.A2, 3), [0.3, 2, 4], { rtol: 1e-12 });
  // Columns 0 of Q1 and Q2 are the top eigenvectors (eigenvalues are listed first-is-top here).
  const q1 = ds.arrays.Q1, q2 = ds.arrays.Q2;
  let cos = 0;
  for (let r = 0; r < 3; r++) cos += q1[r * 3] * q2[r * 3];
  assert(Math.abs(cos) < 0.99, `independent rotations (|cos| = ${Math.abs(cos)})`);
  const p = createF64Problem(ds);
  assert(p.phi);
  assertEquals(Array.from(p.phi(Float64Array.of(1, 2, 3))), [0, 0, 0]);
});

Deno.test("quadratic specs: bad fields throw RangeError naming the field", () => {
  const bad = (spec: unknown, pattern: RegExp) =>
    assertThrows(() => makeDataset(spec as never, { seed: 0 }), pattern);
  bad(
    { kind: "quadratic", eigenvalues: [] },
    /^RangeError: quadratic: eigenvalues must be a non-empty list of finite numbers/,
  );
  bad({ kind: "quadratic", eigenvalues: [1, NaN] }, /quadratic: eigenvalues must be/);
  bad({ kind: "quadratic", eigenvalues: [1], rotate: "yes" }, /quadratic: rotate must be/);
  bad({ kind: "quadratic", eigenvalue: [1] }, /quadratic: unknown field "eigenvalue"/);
  bad(
    { kind: "two-quadratics", eigenvalues1: [1, 2], eigenvalues2: [1] },
    /two-quadratics: eigenvalues1 and eigenvalues2 must have the same length/,
  );
  bad({ kind: "two-quadratics", eigenvalues1: [1] }, /two-quadratics: eigenvalues2 must be/);
});
