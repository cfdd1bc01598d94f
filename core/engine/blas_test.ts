import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { Rng } from "../rng.ts";
import {
  BlasError,
  checkGemm,
  chooseKernel,
  FALLBACK_KERNEL,
  type GemmOperands,
  resolveBlas,
} from "./blas.ts";

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

/** A RangeError whose message contains `text`. */
function rangeError(text: string): RegExp {
  return new RegExp(`^RangeError: .*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`);
}

Deno.test("checkGemm: each operand must hold (rows − 1)·ld + cols values, ld at least its columns", () => {
  const dims = { m: 3, n: 4, k: 2 };
  const ok = { transA: false, transB: false, lda: 2, ldb: 4, ldc: 4 };
  const fit = { ...ok, lengthA: 6, lengthB: 8, lengthC: 12 };
  checkGemm(dims, fit);
  // Strided and transposed: A stored k×m with lda 5 needs (2 − 1)·5 + 3 values.
  checkGemm(dims, { ...fit, transA: true, lda: 5, lengthA: 8 });
  checkGemm({ m: 0, n: 4, k: 2 }, { ...fit, lengthA: 0, lengthC: 0 });
  const short: [GemmOperands, string][] = [
    [{ ...fit, lengthA: 5 }, "a (3×2, ld 2) needs 6 values, its buffer has 5"],
    [{ ...fit, lengthB: 7 }, "b (2×4, ld 4) needs 8 values"],
    [{ ...fit, lengthC: 11 }, "c (3×4, ld 4) needs 12 values"],
    [{ ...fit, transB: true, ldb: 1 }, "ldb=1 is less than the 2 columns"],
    [{ ...fit, transB: true, ldb: 2, lengthB: 7 }, "b (4×2, ld 2) needs 8 values"],
    [{ ...fit, transA: true, lda: 5, lengthA: 7 }, "needs 8 values"],
    [{ ...fit, ldc: 3 }, "ldc=3 is less than the 4 columns"],
  ];
  for (const [operands, message] of short) {
    assertThrows(() => checkGemm(dims, operands), rangeError(message));
  }
  assertThrows(() => checkGemm({ m: 2.5, n: 4, k: 2 }, fit), rangeError("m=2.5"));
});

Deno.test({
  name: "sgemm and dgemm refuse a short buffer before the library sees it",
  ignore: !blas,
  fn() {
    const a = new Float64Array(6), b = new Float64Array(8), c = new Float64Array(11);
    assertThrows(
      () => blas!.dgemm(false, false, { m: 3, n: 4, k: 2 }, 1, a, 2, b, 4, 0, c, 4),
      rangeError("c (3×4, ld 4) needs 12 values"),
    );
    const a32 = new Float32Array(5), b32 = new Float32Array(8), c32 = new Float32Array(12);
    assertThrows(
      () => blas!.sgemm(false, false, { m: 3, n: 4, k: 2 }, 1, a32, 2, b32, 4, 0, c32, 4),
      rangeError("a (3×2, ld 2) needs 6 values"),
    );
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

Deno.test("chooseKernel: the widest instruction set the flags fully cover, none below AVX", () => {
  const avx512 = ["avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"];
  assert(chooseKernel(new Set(avx512)) === "SkylakeX");
  // Knights Landing has AVX-512F and CD but not BW/DQ/VL: SkylakeX's kernels would fault there.
  assert(chooseKernel(new Set(["avx", "avx2", "fma", "avx512f", "avx512cd"])) === "Haswell");
  assert(chooseKernel(new Set(["avx", "avx2"])) === "Sandybridge", "AVX2 without FMA");
  assert(chooseKernel(new Set(["sse2", "sse3", "ssse3"])) === undefined);
});

Deno.test({
  name: "resolveBlas: never the fallback kernel where the CPU's features name a better one",
  ignore: !blas,
  fn() {
    const identity = blas!.identity;
    if (Deno.env.get("OPENBLAS_CORETYPE")) return;
    // glibc's answer, checked against the kernel's (the flags of /proc/cpuinfo; Deno reads /proc
    // only with every permission, a child process can).
    const cat = new Deno.Command("cat", { args: ["/proc/cpuinfo"], stderr: "null" }).outputSync();
    const flags = new TextDecoder().decode(cat.stdout).match(/^flags\s*:(.*)$/m)?.[1];
    if (cat.success && flags !== undefined) {
      assertEquals(blas!.bestKernel, chooseKernel(new Set(flags.trim().split(/\s+/))));
    }
    if (blas!.bestKernel === undefined) return;
    assert(identity.match(/; kernel ([^\s;]+)/)?.[1] !== FALLBACK_KERNEL, identity);
    // The library's own answer too: its configuration string names the kernel it runs.
    assert(!identity.split(";")[0].split(" ").includes(FALLBACK_KERNEL), identity);
    assert(
      blas!.coretype === undefined || identity.includes(`OPENBLAS_CORETYPE=${blas!.bestKernel}`),
    );
    assert(resolveBlas("auto").blas === blas, "one load per library and process");
    assert(Deno.env.get("OPENBLAS_CORETYPE") === undefined, "the variable is not left set");
  },
});
