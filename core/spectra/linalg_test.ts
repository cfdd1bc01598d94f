import { assert, assertClose } from "../../testing/assert.ts";
import { dot, norm, orthogonalize, symmetricEigen } from "./linalg.ts";
import { denseMul, matrixWithSpectrum } from "./testing_oracles.ts";
import { Rng } from "../rng.ts";

Deno.test("symmetricEigen: recovers known spectra (distinct, repeated, zero, negative) and eigenvectors", () => {
  const cases = [
    [5, 3, 2, 1, 0.5, 0.1],
    [4, 4, 4, 1, 1, 0],
    [0, 0, 0, 0],
    [3, -2, 1e-8, -7, 2.5],
    [42],
  ];
  for (const [c, eig] of cases.entries()) {
    const { a, n } = matrixWithSpectrum(eig, 100 + c);
    const { values, vectors } = symmetricEigen(a, n);
    const sorted = [...eig].sort((x, y) => y - x);
    assertClose(values, sorted, { atol: 1e-13 * Math.max(1, ...eig.map(Math.abs)) });
    const av = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      denseMul(a, n, vectors[j], av);
      for (let i = 0; i < n; i++) av[i] -= values[j] * vectors[j][i];
      assert(
        norm(av) < 1e-13 * Math.max(1, ...eig.map(Math.abs)),
        `case ${c}: residual ${norm(av)}`,
      );
      for (let k = 0; k <= j; k++) {
        assertClose(dot(vectors[j], vectors[k]), j === k ? 1 : 0, { atol: 1e-13 });
      }
    }
  }
});

Deno.test("symmetricEigen: 1-D Laplacian tridiag(-1, 2, -1) has eigenvalues 2 − 2cos(kπ/(n+1))", () => {
  const n = 30;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = 2;
    if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
  }
  const expected = Array.from(
    { length: n },
    (_, k) => 2 - 2 * Math.cos((k + 1) * Math.PI / (n + 1)),
  );
  expected.sort((x, y) => y - x);
  assertClose(symmetricEigen(a, n).values, expected, { atol: 1e-13 });
});

Deno.test("orthogonalize: result is orthogonal to the basis and keeps the complement", () => {
  const rng = new Rng(5);
  const basis = [
    new Float64Array([1, 0, 0, 0]),
    new Float64Array([0, Math.SQRT1_2, Math.SQRT1_2, 0]),
  ];
  const w = rng.fillNormal(new Float64Array(4));
  const w3 = w[3], d = (w[1] - w[2]) / 2;
  const r = orthogonalize(w, basis);
  assertClose([dot(w, basis[0]), dot(w, basis[1])], [0, 0], { atol: 1e-15 });
  assertClose(Array.from(w), [0, d, -d, w3], { atol: 1e-15 });
  assertClose(r, Math.hypot(d, d, w3));
});
