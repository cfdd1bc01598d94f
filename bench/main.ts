/**
 * `deno task bench`: times GD, SAM and 1-SAM steps, the HVP, a 20-step Lanczos and a 100-probe
 * Hutchinson trace on the workloads of issue #5, with NumPy and PyTorch baselines run as
 * subprocesses, writes results/bench.csv and prints a short table and the issue's targets.
 *
 * Flags: --quick (fewer repetitions), --only REGEX (on "workload/backend/operation"),
 * --no-baselines, --python PATH (interpreter to try first), --max-call-s S, --out FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { type BenchRow, formatTable, toCsv } from "./harness.ts";
import { runBench } from "./run.ts";

/** Lines stating each target of issue #5 §3 against the measured rows. */
export function targetLines(rows: readonly BenchRow[]): string[] {
  const find = (w: string, b: string, op: string) =>
    rows.find((r) => r.workload === w && r.backend === b && r.operation === op);
  const lines: string[] = [];
  const toy = find("toy4d", "f64", "sam");
  if (toy && Number.isFinite(toy.medianMs)) {
    const x = 1 / toy.ratio;
    lines.push(
      `toy4d SAM step (f64, createStep): ${(toy.stepsPerS / 1e6).toFixed(2)} M steps/s ` +
        `[target ≥ 10] ; ${
          Number.isFinite(x) ? `${x.toFixed(0)}× NumPy` : "no NumPy"
        } [target ≥ 250×]`,
    );
  }
  for (const op of ["sam", "1sam"]) {
    const cands = ["cpu", "wasm"].map((b) => find("mlp-1024", b, op))
      .filter((r): r is BenchRow => !!r && Number.isFinite(r.medianMs));
    if (cands.length) {
      const best = cands.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
      lines.push(
        `mlp-1024 ${op} step, best tfjs CPU backend (${best.backend}): ${
          best.medianMs.toFixed(2)
        } ms, ` +
          `${
            Number.isFinite(best.ratio) ? `${best.ratio.toFixed(2)}× PyTorch float32` : "no PyTorch"
          } ` +
          `[target ≤ 1.0×]`,
      );
    }
    const f = find("mlp-1024", "f64", op);
    if (f && Number.isFinite(f.medianMs)) {
      // The float32 PyTorch time is the baseline of the tfjs rows.
      const f32 = cands.find((r) => Number.isFinite(r.baselineMs))?.baselineMs ?? Number.NaN;
      lines.push(
        `mlp-1024 ${op} step, f64 engine: ${f.medianMs.toFixed(2)} ms, ` +
          `${Number.isFinite(f.ratio) ? `${f.ratio.toFixed(2)}× PyTorch float64` : "no PyTorch"}` +
          (Number.isFinite(f32) ? `, ${(f.medianMs / f32).toFixed(2)}× PyTorch float32` : ""),
      );
    }
  }
  return lines;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "no-baselines": { type: "boolean", default: false },
      python: { type: "string" },
      "max-call-s": { type: "string" },
      out: { type: "string", default: "results/bench.csv" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "usage: deno task bench [--quick] [--only REGEX] [--no-baselines] [--python PATH] " +
        "[--max-call-s S] [--out FILE]",
    );
    Deno.exit(0);
  }
  const maxCallS = values["max-call-s"] === undefined ? undefined : Number(values["max-call-s"]);
  if (maxCallS !== undefined && !(maxCallS > 0)) {
    console.error(`error: --max-call-s must be a positive number (got ${values["max-call-s"]})`);
    Deno.exit(2);
  }
  const rows = await runBench({
    quick: values.quick,
    only: values.only,
    baselines: !values["no-baselines"],
    pythons: values.python ? [values.python, "python3", "/usr/bin/python3"] : undefined,
    maxCallMs: maxCallS === undefined ? undefined : maxCallS * 1000,
    log: (line) => console.error(line),
  });
  const out = values.out!;
  const dir = out.includes("/") ? out.slice(0, out.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(out, toCsv(rows));
  console.log(formatTable(rows));
  for (const line of targetLines(rows)) console.log(line);
  console.log(`wrote ${out} (${rows.length} rows)`);
}
