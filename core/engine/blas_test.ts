import { assert, assertClose, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import { BlasError, resolveBlas } from "./blas.ts";

// The BLAS path is opt-in for runs; its tests use it whenever the library is present.
const blas = resolveBlas("auto").blas;

Deno.test({
  name: "dgemm: all four transposition cases and row strides agree with a triple loop",
  ignore: !blas,
  fn() {
    const rng = new Rng(3);
    const [m, n, k] = [5, 7, 3];
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        // A is stored m×k (or k×m when transposed), B k×n (or n×k), with one padding column.
        const [ar, ac] = ta ? [k, m] : [m, k], [br, bc] = tb ? [n, k] : [k, n];
        const a = rng.fillNormal(new Float64Array(ar * (ac + 1)));
        const b = rng.fillNormal(new Float64Array(br * (bc + 1)));
        const c = rng.fillNormal(new Float64Array(m * n));
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
        blas!.dgemm(ta, tb, { m, n, k }, 2, a, ac + 1, b, bc + 1, 0.5, c, n);
        assertClose(c, want, { rtol: 1e-13, atol: 1e-13, msg: `transA ${ta} transB ${tb}` });
      }
    }
    assert(/OpenBLAS/.test(blas!.identity), blas!.identity);
  },
});

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
