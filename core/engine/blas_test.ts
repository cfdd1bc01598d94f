import { assert, assertClose, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { BlasError, resolveBlas } from "./blas.ts";

// The BLAS path is opt-in for runs; its tests use it whenever the library is present.
const blas = resolveBlas("auto").blas;

for (const precision of ["dgemm", "sgemm"] as const) {
  Deno.test({
    name: `${precision}: all four transposition cases and row strides agree with a triple loop`,
    ignore: !blas,
    fn() {
      const rng = new Rng(3);
      const [m, n, k] = [5, 7, 3];
      // Float32 storage: operands and result are rounded once each, the sums of k = 3 products
      // add a few more roundings, so 1e-6 relative to the result's scale (≈ 8 ulps) bounds it.
      const tol = precision === "dgemm" ? 1e-13 : 1e-6;
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          // A is stored m×k (or k×m when transposed), B k×n (or n×k), with one padding column.
          const [ar, ac] = ta ? [k, m] : [m, k], [br, bc] = tb ? [n, k] : [k, n];
          const a = rng.fillNormal(new Float64Array(ar * (ac + 1)));
          const b = rng.fillNormal(new Float64Array(br * (bc + 1)));
          const c = rng.fillNormal(new Float64Array(m * n));
          if (precision === "sgemm") {
            for (const v of [a, b, c]) v.set(Float32Array.from(v));
          }
          const want = c.map((v) => 0.5 * v);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              for (let l = 0; l < k; l++) {
                const av = ta ? a[l * (ac + 1) + i] : a[i * (ac + 1) + l];
                const bv = tb ? b[j * (bc + 1) + l] : b[l * (bc + 1) + j];
                want[i * n + j] += 2 * av * bv;
              }
            }
          }
          const msg = `transA ${ta} transB ${tb}`;
          if (precision === "dgemm") {
            blas!.dgemm(ta, tb, { m, n, k }, 2, a, ac + 1, b, bc + 1, 0.5, c, n);
            assertClose(c, want, { rtol: tol, atol: tol, msg });
          } else {
            const c32 = Float32Array.from(c);
            const args = [Float32Array.from(a), ac + 1, Float32Array.from(b), bc + 1] as const;
            blas!.sgemm(ta, tb, { m, n, k }, 2, args[0], args[1], args[2], args[3], 0.5, c32, n);
            assertClose(Float64Array.from(c32), want, { rtol: tol, atol: tol, msg });
            assert(c32.some((v, i) => v !== c[i]), "the product changed C");
          }
        }
      }
      assert(/OpenBLAS/.test(blas!.identity), blas!.identity);
    },
  });
}

Deno.test("resolveBlas: a named library that cannot load is a one-line error; off is none", () => {
  assertThrows(
    () => resolveBlas("/nonexistent/libopenblas.so.0"),
    /SAM_BLAS=\/nonexistent\/libopenblas\.so\.0: .*SAM_BLAS=off$/,
  );
  try {
    resolveBlas("/nonexistent/libopenblas.so.0");
  } catch (e) {
    assert(e instanceof BlasError && !e.message.includes("\n"), "one line");
  }
  const off = resolveBlas("off");
  assert(off.blas === undefined && off.reason === "SAM_BLAS=off");
  const unset = resolveBlas(undefined);
  assert(unset.blas === undefined && /opt in/.test(unset.reason), "off unless asked");
});
