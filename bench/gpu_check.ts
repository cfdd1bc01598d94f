/**
 * `deno task gpu-check`: the prepared WebGPU check of a GPU machine. Prints the adapter Deno sees
 * (or one line saying there is none and what to try), runs the webgpu-vs-cpu oracle tests, then
 * times the scale workload (two-layer tanh MLP, d = 196, n = 256, h = 64 and h = 256) on webgpu
 * and wasm in the same run, round by round alternately, through bench's runner: the full-batch
 * SAM step, the 1-SAM step batched over 64 runs (per run-step) and one HVP, with PyTorch CUDA's
 * SAM step where a python3 has a CUDA PyTorch. Its rows are merged into results/bench.csv.
 *
 * Flags: see {@linkcode GPU_CHECK_HELP}. bench/gpu_check.sh prepares a bare NVIDIA machine first.
 * @module
 */
import { parseArgs } from "node:util";
import { findPython, type PythonFound } from "./baselines.ts";
import { type BenchRow, formatTable, mergeCsv, NO_BASELINE } from "./harness.ts";
import { runBench } from "./run.ts";
import { gflopOf, instantiate, WORKLOADS } from "./workloads.ts";

/** `deno task gpu-check --help`. */
export const GPU_CHECK_HELP = `usage: deno task gpu-check [options]

Prints the WebGPU adapter Deno sees, runs the webgpu-vs-cpu oracle tests, then times the scale
workload (tanh MLP, d = 196, n = 256; h = 64 and h = 256) on webgpu and wasm in alternating rounds:
the full-batch SAM step, the 1-SAM step batched over 64 runs (per run-step) and one HVP, with
PyTorch on CUDA where a python3 can import a CUDA PyTorch. Rows are merged into the output CSV
(rows of the same workload, engine, backend, dtype, threads and operation are replaced).

options:
  --quick            fewer repetitions (a smoke run)
  --no-tests         skip the oracle tests
  --no-torch         skip the PyTorch CUDA baseline
  --python PATH      the Python interpreter to try first (then python3, /usr/bin/python3)
  --out FILE         the CSV to merge the rows into (default results/bench.csv)
  -h, --help         this text

On a bare NVIDIA machine run bench/gpu_check.sh instead: it installs the Vulkan and GL libraries
Deno's WebGPU needs, points at NVIDIA's driver files, then runs this.`;

/** The parsed flags of gpu_check. */
export interface GpuCheckOptions {
  /** Fewer repetitions. */
  readonly quick: boolean;
  /** Run the oracle tests first. */
  readonly tests: boolean;
  /** Try the PyTorch CUDA baseline. */
  readonly torch: boolean;
  /** Interpreters to try for it, in order. */
  readonly pythons: readonly string[];
  /** The CSV the rows are merged into. */
  readonly out: string;
  /** Print the help and stop. */
  readonly help: boolean;
}

/** Parses gpu_check's flags; throws a one-line RangeError naming the flag on bad input. */
export function parseGpuCheckArgs(args: readonly string[]): GpuCheckOptions {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        quick: { type: "boolean", default: false },
        "no-tests": { type: "boolean", default: false },
        "no-torch": { type: "boolean", default: false },
        python: { type: "string" },
        out: { type: "string", default: "results/bench.csv" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    throw new RangeError(`${(e as Error).message.split("\n")[0]} (see --help)`);
  }
  if (values.out === "") throw new RangeError("--out must name a file");
  if (values.python === "") throw new RangeError("--python must name an interpreter");
  const defaults = ["python3", "/usr/bin/python3"];
  return {
    quick: values.quick!,
    tests: !values["no-tests"],
    torch: !values["no-torch"],
    pythons: values.python ? [values.python, ...defaults] : defaults,
    out: values.out!,
    help: values.help!,
  };
}

/** What the check reports of an adapter. */
export interface AdapterFacts {
  /** Vendor (Deno reports the PCI vendor id as a decimal string). */
  readonly vendor: string;
  /** Architecture ("" where the driver gives none). */
  readonly architecture: string;
  /** Device id or name. */
  readonly device: string;
  /** The driver's description, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  readonly description: string;
  /** A software (fallback) adapter. */
  readonly isFallbackAdapter: boolean;
  /** limits.maxBufferSize in bytes. */
  readonly maxBufferSize: number;
  /** limits.maxStorageBufferBindingSize in bytes. */
  readonly maxStorageBufferBindingSize: number;
}

/** PCI vendor ids of the usual GPU makers, and Mesa's software (0x10005). */
const VENDORS: Record<number, string> = {
  0x10de: "NVIDIA",
  0x1002: "AMD",
  0x8086: "Intel",
  0x10005: "Mesa (software)",
};

/** The vendor as given, with its hex id and maker when it is a known PCI id. */
export function vendorName(vendor: string): string {
  const id = /^\d+$/.test(vendor) ? Number(vendor) : Number.NaN;
  if (!Number.isFinite(id)) return vendor || "unknown";
  const name = VENDORS[id];
  return `${vendor} (0x${id.toString(16)}${name ? `, ${name}` : ""})`;
}

/** The adapter's short name for rows and summaries: its description, vendor, fallback mark. */
export function adapterName(a: AdapterFacts): string {
  const maker = VENDORS[Number(a.vendor)] ?? a.vendor;
  const text = [a.description || "unknown adapter", maker && `vendor ${maker}`, a.architecture]
    .filter((p) => p).join(", ");
  return `${text}${a.isFallbackAdapter ? " [fallback]" : ""}`;
}

/** The lines printed for an adapter. */
export function adapterLines(a: AdapterFacts): string[] {
  const mib = (b: number) => `${b} bytes (${(b / 2 ** 20).toFixed(0)} MiB)`;
  return [
    `WebGPU adapter: ${adapterName(a)}`,
    `  vendor ${vendorName(a.vendor)}, architecture ${a.architecture || "-"}, device ${
      a.device || "-"
    }`,
    `  description ${a.description || "-"}`,
    `  isFallbackAdapter ${a.isFallbackAdapter}${
      a.isFallbackAdapter ? " (software: a CPU emulating a GPU; timings are not a GPU's)" : ""
    }`,
    `  maxBufferSize ${mib(a.maxBufferSize)}, maxStorageBufferBindingSize ${
      mib(a.maxStorageBufferBindingSize)
    }`,
  ];
}

/** NVIDIA's Vulkan ICD and EGL vendor files as the container runtime mounts them. */
export const NVIDIA_ICD = "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json";
/** See {@link NVIDIA_ICD}. */
export const NVIDIA_EGL = "/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json";
/** The Debian packages wgpu over Vulkan needs on a bare headless machine. */
export const GPU_PACKAGES = [
  "libvulkan1",
  "libegl1",
  "libglvnd0",
  "libopengl0",
  "libgl1",
  "libglx0",
  "libgles2",
] as const;

/** The one line printed when Deno sees no adapter: the cause and what to try. */
export function noAdapterMessage(cause: string): string {
  return `no WebGPU adapter found (${cause}): install ${GPU_PACKAGES.join(" ")} ` +
    `(bench/gpu_check.sh does), then set VK_DRIVER_FILES=${NVIDIA_ICD} and ` +
    `__EGL_VENDOR_LIBRARY_FILENAMES=${NVIDIA_EGL}; without a GPU, Mesa's mesa-vulkan-drivers ` +
    `gives a software adapter`;
}

/** The adapter tfjs-backend-webgpu would get, or why there is none. Never throws. */
export async function readAdapter(
  gpu: { requestAdapter(o?: GPURequestAdapterOptions): Promise<GPUAdapter | null> } | undefined,
): Promise<{ adapter: AdapterFacts } | { cause: string }> {
  if (!gpu) return { cause: "navigator.gpu is undefined" };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { cause: `requestAdapter() threw: ${e}` };
  }
  if (!adapter) return { cause: "requestAdapter() returned null" };
  // The fallback flag moved from the adapter to its info in the spec; runtimes differ.
  const info = (adapter as { info?: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } })
    .info ?? {};
  return {
    adapter: {
      vendor: info.vendor ?? "",
      architecture: info.architecture ?? "",
      device: info.device ?? "",
      description: info.description ?? "",
      isFallbackAdapter: info.isFallbackAdapter === true ||
        (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    },
  };
}

/** The workloads gpu_check times. */
export const SCALE_WORKLOADS = ["mlp-scale-h64", "mlp-scale-h256"] as const;

/** bench's row filter for gpu_check: the scale workloads' SAM, batched 1-SAM, HVP on wasm and webgpu. */
export const GPU_CHECK_ONLY = `^(${
  SCALE_WORKLOADS.join("|").replaceAll(".", "\\.")
})/(wasm|webgpu)/(sam|1sam-x64|hvp)$`;

/** The webgpu-vs-cpu oracle test files run before timing. */
export const ORACLE_TESTS = [
  "core/engine/backend_test.ts",
  "core/problems/tf_mlp_sam_webgpu_test.ts",
  "core/problems/tf_mlp_runs_webgpu_test.ts",
  "core/engine/select_test.ts",
] as const;

/** gpu_check's rows with the adapter's name in the note of every webgpu row. */
export function withAdapter(rows: readonly BenchRow[], adapter: AdapterFacts): BenchRow[] {
  return rows.map((r) =>
    r.backend === "webgpu"
      ? { ...r, note: [`adapter ${adapterName(adapter)}`, r.note].filter(Boolean).join("; ") }
      : r
  );
}

/** The row recording that the PyTorch CUDA baseline of a workload's SAM step did not run. */
export function absentRow(workload: string, reason: string, machine: string): BenchRow {
  const w = WORKLOADS.find((x) => x.id === workload);
  if (!w) throw new RangeError(`workload must be a bench workload (got "${workload}")`);
  const gflop = gflopOf(instantiate(w).dataset, "sam");
  return {
    workload,
    engine: "torch-cuda",
    backend: "torch-cuda",
    dtype: "float32",
    threads: 1,
    operation: "sam",
    medianMs: NaN,
    stepsPerS: NaN,
    minMs: NaN,
    maxMs: NaN,
    reps: 0,
    gflop,
    gflops: NaN,
    rooflineGflops: NaN,
    loadAvg: NaN,
    blas: "",
    ...NO_BASELINE,
    machine,
    relDiff: NaN,
    note: `absent: ${reason}`,
  };
}

/** One line per (workload, operation): webgpu and wasm medians, their ratio, CUDA's where run. */
export function summaryLines(rows: readonly BenchRow[]): string[] {
  const find = (w: string, backend: string, op: string) =>
    rows.find((r) =>
      r.workload === w && r.backend.split(" ")[0] === backend &&
      (r.operation === op || (op === "1sam-x64" && backend === "torch-cuda" &&
        r.operation === "1sam")) &&
      Number.isFinite(r.medianMs)
    );
  const ms = (x: number) => x >= 1 ? `${x.toFixed(2)} ms` : `${(x * 1e3).toPrecision(3)} µs`;
  const lines: string[] = [];
  for (const w of SCALE_WORKLOADS) {
    for (const op of ["sam", "1sam-x64", "hvp"]) {
      const gpu = find(w, "webgpu", op), wasm = find(w, "wasm", op);
      if (!gpu && !wasm) continue;
      const cuda = find(w, "torch-cuda", op);
      const parts = [
        `${w} ${op}${op === "1sam-x64" ? " (per run-step)" : ""}:`,
        `webgpu ${gpu ? ms(gpu.medianMs) : "-"}`,
        `wasm ${wasm ? ms(wasm.medianMs) : "-"}`,
      ];
      if (gpu && wasm) parts.push(`webgpu/wasm ${(gpu.medianMs / wasm.medianMs).toPrecision(3)}`);
      if (cuda) {
        parts.push(`torch-cuda ${ms(cuda.medianMs)}${op === "1sam-x64" ? " (one run)" : ""}`);
      }
      lines.push(parts.join("  "));
    }
  }
  return lines;
}

/** Runs the oracle tests in a child `deno test`; its output streams through. True when they pass. */
async function runOracleTests(): Promise<boolean> {
  const child = new Deno.Command("deno", {
    args: ["test", "--allow-read=.", "--allow-env", ...ORACLE_TESTS],
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).success;
}

async function main(): Promise<number> {
  let opts: GpuCheckOptions;
  try {
    opts = parseGpuCheckArgs(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  if (opts.help) {
    console.log(GPU_CHECK_HELP);
    return 0;
  }
  const found = await readAdapter((navigator as { gpu?: GPU }).gpu);
  if ("cause" in found) {
    console.log(noAdapterMessage(found.cause));
    return 1;
  }
  for (const line of adapterLines(found.adapter)) console.log(line);

  let testsOk = true;
  if (opts.tests) {
    console.log(`\noracle tests (webgpu vs cpu): deno test ${ORACLE_TESTS.join(" ")}`);
    testsOk = await runOracleTests();
    console.log(`oracle tests: ${testsOk ? "PASS" : "FAIL (timings below are still reported)"}\n`);
  }

  const torch: PythonFound = opts.torch
    ? await findPython("torch-cuda", opts.pythons)
    : { program: "torch-cuda", reason: "--no-torch given" };
  if (torch.python) console.log(`PyTorch CUDA baseline: ${torch.python}, torch ${torch.version}`);
  else console.log(`PyTorch CUDA baseline: absent (${torch.reason})`);

  const rows = withAdapter(
    await runBench({
      quick: opts.quick,
      only: GPU_CHECK_ONLY,
      baselines: torch.python !== undefined,
      programs: ["torch-cuda"],
      pythons: torch.python ? [torch.python] : [],
      interleave: true,
      log: (line) => console.error(line),
    }),
    found.adapter,
  );
  if (!torch.python) {
    const machine = rows[0]?.machine ?? "";
    for (const w of SCALE_WORKLOADS) rows.push(absentRow(w, torch.reason ?? "", machine));
  }
  const dir = opts.out.includes("/") ? opts.out.slice(0, opts.out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  let existing = "";
  try {
    existing = await Deno.readTextFile(opts.out);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.writeTextFile(opts.out, mergeCsv(existing, rows));
  console.log(formatTable(rows));
  for (const line of summaryLines(rows)) console.log(line);
  console.log(`merged ${rows.length} rows into ${opts.out}`);
  if (!testsOk) console.log("oracle tests FAILED: see their output above");
  return testsOk ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
