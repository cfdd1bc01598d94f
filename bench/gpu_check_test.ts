import { assert, assertEquals, assertThrows } from "../testing/assert.ts";
import { CSV_COLUMNS, mergeCsv, toCsv } from "./harness.ts";
import {
  absentRow,
  type AdapterFacts,
  adapterLines,
  GPU_CHECK_ONLY,
  GPU_PACKAGES,
  noAdapterMessage,
  NVIDIA_EGL,
  NVIDIA_ICD,
  parseGpuCheckArgs,
  readAdapter,
  summaryLines,
  vendorName,
  withAdapter,
} from "./gpu_check.ts";
import { OPERATIONS, timesOperation, WORKLOADS } from "./workloads.ts";

const NVIDIA: AdapterFacts = {
  vendor: "4318",
  architecture: "hopper",
  device: "8963",
  description: "NVIDIA H200",
  isFallbackAdapter: false,
  maxBufferSize: 2 ** 31,
  maxStorageBufferBindingSize: 2 ** 27,
};

Deno.test("parseGpuCheckArgs: defaults, flags, and bad input as one-line RangeErrors", () => {
  assertEquals(parseGpuCheckArgs([]), {
    quick: false,
    tests: true,
    torch: true,
    pythons: ["python3", "/usr/bin/python3"],
    out: "results/bench.csv",
    help: false,
  });
  const o = parseGpuCheckArgs(["--quick", "--no-tests", "--no-torch", "--python", "/opt/py", "-h"]);
  assertEquals([o.quick, o.tests, o.torch, o.help], [true, false, false, true]);
  assertEquals(o.pythons, ["/opt/py", "python3", "/usr/bin/python3"]);
  for (const args of [["--bogus"], ["--out"], ["--out", ""], ["--python", ""]]) {
    // One line (no newline), naming the flag.
    assertThrows(() => parseGpuCheckArgs(args), /^[^\n]*(bogus|out|python)[^\n]*$/);
    try {
      parseGpuCheckArgs(args);
    } catch (e) {
      assert(e instanceof RangeError, `${args}: ${e}`);
    }
  }
});

Deno.test("noAdapterMessage: one line with the cause, the packages and both NVIDIA files", () => {
  const line = noAdapterMessage("requestAdapter() returned null");
  assertEquals(line.split("\n").length, 1);
  assert(line.startsWith("no WebGPU adapter found (requestAdapter() returned null)"), line);
  for (const p of [...GPU_PACKAGES, NVIDIA_ICD, NVIDIA_EGL]) assert(line.includes(p), p);
});

Deno.test("readAdapter: a missing API and a null adapter give causes; an adapter gives its facts", async () => {
  assertEquals(await readAdapter(undefined), { cause: "navigator.gpu is undefined" });
  assertEquals(await readAdapter({ requestAdapter: () => Promise.resolve(null) }), {
    cause: "requestAdapter() returned null",
  });
  const fake = {
    info: { vendor: "65541", architecture: "", device: "0", description: "llvmpipe" },
    isFallbackAdapter: true,
    limits: { maxBufferSize: 100, maxStorageBufferBindingSize: 50 },
  } as unknown as GPUAdapter;
  const got = await readAdapter({ requestAdapter: () => Promise.resolve(fake) });
  assertEquals(got, {
    adapter: {
      vendor: "65541",
      architecture: "",
      device: "0",
      description: "llvmpipe",
      isFallbackAdapter: true,
      maxBufferSize: 100,
      maxStorageBufferBindingSize: 50,
    },
  });
});

Deno.test("adapter lines: vendor id decoded, fallback flagged, limits in bytes", () => {
  assertEquals(vendorName("4318"), "4318 (0x10de, NVIDIA)");
  assertEquals(vendorName("4"), "4 (0x4)");
  assertEquals(vendorName(""), "unknown");
  const lines = adapterLines(NVIDIA).join("\n");
  assert(lines.includes("NVIDIA H200, vendor NVIDIA, hopper"), lines);
  assert(lines.includes("isFallbackAdapter false\n"), lines);
  assert(lines.includes("maxBufferSize 2147483648 bytes (2048 MiB)"), lines);
  const soft = adapterLines({ ...NVIDIA, isFallbackAdapter: true }).join("\n");
  assert(soft.includes("[fallback]") && soft.includes("software"), soft);
});

Deno.test("the filter selects SAM, batched 1-SAM and HVP of both scale sizes on wasm and webgpu", () => {
  const only = new RegExp(GPU_CHECK_ONLY, "i");
  const picked = WORKLOADS.flatMap((w) =>
    w.backends.flatMap((b) =>
      OPERATIONS.filter((op) => only.test(`${w.id}/${b}/${op}`) && timesOperation(w, b, op))
        .map((op) => `${w.id}/${b}/${op}`)
    )
  );
  const want = ["mlp-scale-h64", "mlp-scale-h256"].flatMap((w) =>
    ["wasm", "webgpu"].flatMap((b) => ["sam", "1sam-x64", "hvp"].map((op) => `${w}/${b}/${op}`))
  );
  assertEquals(picked, want);
  // The scale workload's shapes: D = h(d + 2) with d = 196.
  for (const [id, dim] of [["mlp-scale-h64", 12_672], ["mlp-scale-h256", 50_688]] as const) {
    const ds = WORKLOADS.find((w) => w.id === id)!.dataset();
    assertEquals(ds.shapes.z, [256, 196]);
    assertEquals((ds.params.hidden as number) * (196 + 2), dim);
  }
});

Deno.test("rows: the adapter in every webgpu row, an absent CUDA row, merged by key", () => {
  const absent = absentRow("mlp-scale-h64", "no CUDA", "m");
  assertEquals([absent.engine, absent.operation, absent.reps, absent.note], [
    "torch-cuda",
    "sam",
    0,
    "absent: no CUDA",
  ]);
  assert(Number.isNaN(absent.medianMs) && absent.gflop > 0, "no time, a FLOP count");
  assertThrows(() => absentRow("mnist", "x", "m"), /workload must be a bench workload/);
  const gpu = { ...absent, engine: "tfjs", backend: "webgpu", note: "n", medianMs: 2 };
  const wasm = { ...gpu, backend: "wasm", note: "", medianMs: 8 };
  const rows = withAdapter([gpu, wasm], NVIDIA);
  assertEquals(rows[0].note, "adapter NVIDIA H200, vendor NVIDIA, hopper; n");
  assertEquals(rows[1].note, "");
  assertEquals(summaryLines(rows), [
    "mlp-scale-h64 sam:  webgpu 2.00 ms  wasm 8.00 ms  webgpu/wasm 0.250",
  ]);

  const other = { ...wasm, workload: "mlp-1024", note: "kept, with a comma" };
  const old = toCsv([other, { ...gpu, medianMs: 5 }, absent]);
  const merged = mergeCsv(old, [{ ...gpu, backend: "webgpu", medianMs: 3 }]).trimEnd().split("\n");
  assertEquals(merged[0], CSV_COLUMNS.join(","));
  // Kept rows stay in order with their fields verbatim; the replaced one goes, the new one last.
  assertEquals(merged.slice(1, 3), old.trimEnd().split("\n").filter((_, i) => i === 1 || i === 3));
  assertEquals(merged.length, 4);
  assert(merged[3].startsWith("mlp-scale-h64,tfjs,webgpu,float32,1,sam,3,"), merged[3]);
  assertEquals(mergeCsv("", [gpu]), toCsv([gpu]));
  assertThrows(() => mergeCsv("a,b\n1,2\n", [gpu]), /header is not bench's/);
});
