/**
 * `deno task bench`: times GD, SAM and 1-SAM steps, the HVP, a 20-step Lanczos and a 100-probe
 * Hutchinson trace through the project's code, interleaved round by round with NumPy and PyTorch
 * baselines (subprocesses at 1 thread and at all cores, each naming the BLAS it loaded), writes
 * results/bench.csv and prints a short table and the performance targets.
 *
 * Flags: see `deno task bench --help` ({@linkcode BENCH_HELP}).
 * @module
 */
import { parseArgs } from "node:util";
import { type BenchRow, formatTable, mergeCsv, toCsv } from "./harness.ts";
import { dropOpenblasCoretype, runBench } from "./run.ts";

/** Lines stating each performance target against the measured rows (ratios of the same run). */
export function targetLines(rows: readonly BenchRow[]): string[] {
  const find = (w: string, b: string, op: string) =>
    rows.find((r) =>
      r.workload === w && r.backend === b && r.operation === op && Number.isFinite(r.medianMs)
    );
  const ratio = (r: BenchRow) =>
    Number.isFinite(r.ratio)
      ? `${r.ratio.toFixed(2)}× ${r.baseline} (${r.baselineMs.toPrecision(3)} ms)`
      : "no optimized-BLAS baseline";
  const lines: string[] = [];
  const toy = find("toy4d", "f64", "sam");
  if (toy) {
    lines.push(
      `toy4d SAM step (f64, createStep): ${(toy.stepsPerS / 1e6).toFixed(2)} M steps/s ` +
        `[target ≥ 10]; ${
          Number.isFinite(toy.ratio)
            ? `${(1 / toy.ratio).toFixed(0)}× faster than NumPy`
            : "no NumPy"
        } [target ≥ 250×]`,
    );
  }
  const cands = ["cpu", "wasm", "wasm-sgemm"].map((b) => find("mlp-1024", b, "sam"))
    .filter((r): r is BenchRow => r !== undefined);
  if (cands.length) {
    const best = cands.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
    lines.push(
      `mlp-1024 SAM step float32, fastest CPU engine (${best.backend}): ` +
        `${best.medianMs.toFixed(2)} ms, ${ratio(best)} [target ≤ 1.5×]`,
    );
  }
  const wasm = find("mlp-1024", "wasm", "sam");
  if (wasm) {
    lines.push(
      `mlp-1024 SAM step, tfjs-wasm: ${wasm.medianMs.toFixed(2)} ms, ${ratio(wasm)} [target ≤ 3×]`,
    );
  }
  const xnnpack = find("mlp-1024", "wasm-xnnpack", "sam");
  if (xnnpack) {
    lines.push(
      `mlp-1024 SAM step, tfjs-wasm with tfjs's own products (XNNPACK): ` +
        `${xnnpack.medianMs.toFixed(2)} ms, ${ratio(xnnpack)}`,
    );
  }
  const f64 = find("mlp-1024", "f64", "sam");
  if (f64) {
    lines.push(
      `mlp-1024 SAM step float64, f64 engine: ${f64.medianMs.toFixed(2)} ms, ${
        ratio(f64)
      } [target ≤ 2×]`,
    );
  }
  const one = find("mlp-1024", "wasm", "1sam");
  if (one) {
    lines.push(
      `mlp-1024 1-SAM step, tfjs-wasm unbatched: ${one.medianMs.toFixed(3)} ms per step ` +
        `[target ≤ 0.1 ms per run-step batched over 64 runs]`,
    );
  }
  return lines;
}

/** `deno task bench --help`. */
export const BENCH_HELP = `usage: deno task bench [options]

Times the project's GD, SAM and 1-SAM steps, HVP, Lanczos and trace against NumPy and PyTorch
baselines run in the same rounds (1 thread and all cores, each naming the BLAS it loaded), and
writes results/bench.csv.

options:
  --quick            fewer repetitions (a smoke run)
  --only REGEX       only rows whose "workload/backend/operation" matches, e.g. 'mlp-1024/.*/sam'
  --no-baselines     skip the NumPy and PyTorch programs
  --python PATH      the Python interpreter to try first (then python3, /usr/bin/python3)
  --max-call-s S     give up on a row whose single call takes longer than S seconds
  --out FILE         where to write the table (default results/bench.csv)
  --merge            replace only the rows this run timed in FILE, keep the others (a partial rerun)
  -h, --help         this text

examples:
  deno task bench --quick --only 'toy4d'
  deno task bench --only 'mlp-1024/(f64|wasm)/sam' --out results/bench-sam.csv
  deno task bench --only '/wasm/1sam-x64' --merge`;

/** The file's text, or "" when it does not exist (other errors propagate). */
async function readIfPresent(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "";
    throw e;
  }
}

/** Parses bench's flags; an unknown or malformed one is a one-line error (exit 2), not a trace. */
function parseBenchArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        "no-baselines": { type: "boolean", default: false },
        python: { type: "string" },
        "max-call-s": { type: "string" },
        out: { type: "string", default: "results/bench.csv" },
        merge: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`error: ${(e as Error).message.split("\n")[0]} (see deno task bench --help)`);
    Deno.exit(2);
  }
}

if (import.meta.main) {
  const values = parseBenchArgs(Deno.args);
  if (values.help) {
    console.log(BENCH_HELP);
    Deno.exit(0);
  }
  const maxCallS = values["max-call-s"] === undefined ? undefined : Number(values["max-call-s"]);
  if (maxCallS !== undefined && !(maxCallS > 0)) {
    console.error(`error: --max-call-s must be a positive number (got ${values["max-call-s"]})`);
    Deno.exit(2);
  }
  const out = values.out!;
  // Checked before the run, which takes minutes: the task may write under results/ only.
  if (Deno.permissions.querySync({ name: "write", path: out }).state !== "granted") {
    console.error(
      `error: --out ${out}: not writable under this task's permissions (--allow-write=results); ` +
        `choose a path under results/`,
    );
    Deno.exit(2);
  }
  const coretype = dropOpenblasCoretype();
  if (coretype !== undefined) {
    console.error(
      `OPENBLAS_CORETYPE=${coretype} removed from the environment: each OpenBLAS (ours and the ` +
        `baselines') chooses its own kernel, so that no baseline runs below the CPU's best`,
    );
  }
  const rows = await runBench({
    quick: values.quick,
    only: values.only,
    baselines: !values["no-baselines"],
    pythons: values.python ? [values.python, "python3", "/usr/bin/python3"] : undefined,
    maxCallMs: maxCallS === undefined ? undefined : maxCallS * 1000,
    log: (line) => console.error(line),
  });
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  let text = toCsv(rows);
  if (values.merge) {
    try {
      text = mergeCsv(await readIfPresent(out), rows);
    } catch (e) {
      console.error(`error: --merge ${out}: ${(e as Error).message}`);
      Deno.exit(2);
    }
  }
  await Deno.writeTextFile(out, text);
  console.log(formatTable(rows));
  for (const line of targetLines(rows)) console.log(line);
  console.log(`wrote ${out} (${rows.length} rows)`);
}
