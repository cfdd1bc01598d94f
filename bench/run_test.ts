import { assert, assertEquals } from "../testing/assert.ts";
import { findPython } from "./baselines.ts";
import { CSV_COLUMNS, relDiff, summarize, toCsv } from "./harness.ts";
import { runBench } from "./run.ts";
import { resolveBlas } from "../core/engine/blas.ts";

Deno.test("summarize: median of odd and even counts, min, max", () => {
  assertEquals(summarize([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assertEquals(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
});

Deno.test("relDiff: max-norm relative difference; NaN on a length mismatch", () => {
  assertEquals(relDiff([1, 2.5], [1, 2]), 0.25);
  assert(Number.isNaN(relDiff([1], [1, 2])));
});

Deno.test("bench --quick on the 4-D toy runs end to end and writes every CSV column", async () => {
  const rows = await runBench({ quick: true, only: "^toy4d/f64/(gd|sam|hvp)$", baselines: false });
  assertEquals(rows.map((r) => r.operation), ["gd", "sam", "hvp"]);
  for (const r of rows) {
    assert(r.workload === "toy4d" && r.engine === "f64" && r.backend === "f64", r.workload);
    assert(r.reps >= 3 && r.minMs <= r.medianMs && r.medianMs <= r.maxMs, `${r.operation} stats`);
    // Our step is the float64 reference itself here.
    assertEquals(r.relDiff, 0, `${r.operation} check`);
  }
  const lines = toCsv(rows).trimEnd().split("\n");
  assertEquals(lines[0], CSV_COLUMNS.join(","));
  assertEquals(lines.length, 1 + rows.length);
  // Quoted fields (the machine text may hold commas) count as one field each.
  const fields = (line: string) => line.replace(/"(?:[^"]|"")*"/g, "q").split(",").length;
  for (const line of lines.slice(1)) assertEquals(fields(line), CSV_COLUMNS.length);
});

const numpy = await findPython("numpy", ["python3", "/usr/bin/python3"]);
Deno.test({
  name: "NumPy baseline computes the same toy SAM step and HVP as the float64 engine",
  ignore: !numpy.python,
  async fn() {
    const rows = await runBench({ quick: true, only: "^toy4d/f64/(sam|hvp)$", threads: [1] });
    const base = rows.filter((r) => r.engine === "numpy");
    assertEquals(base.map((r) => r.operation).sort(), ["hvp", "sam"]);
    for (const r of base) {
      assert(r.medianMs > 0 && r.threads === 1 && r.blas !== "", `${r.operation}: ${r.blas}`);
      assert(r.relDiff < 1e-12, `${r.operation}: baseline rel diff ${r.relDiff}`);
    }
    for (const r of rows.filter((r) => r.engine === "f64")) {
      assert(r.baseline.startsWith("numpy") && r.ratio > 0, `${r.operation}: ${r.baseline}`);
    }
  },
});

Deno.test({
  name: "NumPy MLP baselines (float32 and float64) compute the engines' SAM, 1-SAM and HVP",
  ignore: !numpy.python,
  async fn() {
    const rows = await runBench({
      quick: true,
      only: "^mlp-5\\.1/(f64|cpu)/(sam|1sam|hvp)$",
      threads: [1],
      pythons: [numpy.python!],
    });
    const base = rows.filter((r) => r.engine === "numpy");
    assertEquals(base.length, 6);
    for (const r of base) {
      // float32 rounding of a 2×128-unit network: a few ulps of float32 per entry.
      const tol = r.dtype === "float64" ? 1e-12 : 1e-5;
      assert(r.relDiff < tol, `${r.dtype} ${r.operation}: rel diff ${r.relDiff}`);
      assert(/OpenBLAS|BLAS|unknown/.test(r.blas), r.blas);
      assert(r.gflop > 0 && r.gflops > 0, `${r.operation} gflops`);
    }
    for (const r of rows.filter((r) => r.engine !== "numpy")) {
      const want = r.engine === "f64" ? "float64" : "float32";
      assert(r.baseline.includes(want), `${r.backend} ${r.operation}: ${r.baseline}`);
      assert(Number.isFinite(r.loadAvg), "load average recorded");
    }
  },
});

Deno.test("bench interleaved: two tfjs backends alternate rounds and each computes its own step", async () => {
  const done: string[] = [];
  const rows = await runBench({
    quick: true,
    only: "^mlp-5\\.1/(cpu|wasm)/(sam|hvp)$",
    baselines: false,
    interleave: true,
    log: (line) => done.push(line.split(":")[0]),
  });
  // One after the other would finish cpu/sam, cpu/hvp, then wasm's.
  assertEquals(done, [
    "mlp-5.1/cpu/sam",
    "mlp-5.1/wasm/sam",
    "mlp-5.1/cpu/hvp",
    "mlp-5.1/wasm/hvp",
  ]);
  assertEquals(rows.map((r) => `${r.backend}/${r.operation}`), [
    "cpu/sam",
    "cpu/hvp",
    "wasm/sam",
    "wasm/hvp",
  ]);
  for (const r of rows) {
    assert(r.reps === 3 && r.medianMs > 0, `${r.backend} ${r.operation} reps ${r.reps}`);
    // float32 steps against the float64 reference.
    assert(r.relDiff < 1e-4, `${r.backend} ${r.operation}: rel diff ${r.relDiff}`);
  }
});

Deno.test({
  name: "bench wasm-sgemm: the fused SAM step with OpenBLAS products, beside plain wasm",
  ignore: !resolveBlas("auto").blas,
  async fn() {
    const sgemm = resolveBlas("auto").blas!;
    const rows = await runBench({
      quick: true,
      only: "^mlp-5\\.1/(wasm|wasm-sgemm)/sam$",
      baselines: false,
      sgemm,
    });
    assertEquals(rows.map((r) => r.backend), ["wasm", "wasm-sgemm"]);
    const [plain, fast] = rows;
    assert(!plain.blas.includes("sgemm"), plain.blas);
    assert(fast.blas.includes(`${sgemm.identity}, sgemm via FFI`), fast.blas);
    for (const r of rows) {
      // float32 steps against the float64 reference.
      assert(r.relDiff < 1e-4, `${r.backend}: rel diff ${r.relDiff}`);
    }
  },
});

Deno.test("bench wasm-xnnpack: the fused SAM step with tfjs's products, beside plain wasm's kernel", async () => {
  const rows = await runBench({
    quick: true,
    only: "^mlp-5\\.1/(wasm|wasm-xnnpack)/sam$",
    baselines: false,
  });
  assertEquals(rows.map((r) => r.backend), ["wasm", "wasm-xnnpack"]);
  const [plain, xnnpack] = rows;
  assert(plain.blas.includes("the project's relaxed-SIMD kernel (multiply-add "), plain.blas);
  assert(xnnpack.blas.startsWith("XNNPACK in tfjs-backend-wasm") && !xnnpack.blas.includes(";"));
  for (const r of rows) assert(r.relDiff < 1e-4, `${r.backend}: rel diff ${r.relDiff}`);
});
