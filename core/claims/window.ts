/**
 * Evaluators on logged step windows (docs/theory.md §3, §5): the sign of ⟨x − Φ(x_s), v1(x_s)⟩
 * over consecutive steps. SAM's iterate flips sides of Γ along v1 every step; 1-SAM's flips only
 * when the sample whose Hessian owns v1 is drawn; GD approaches Γ from one side.
 * @module
 */
import { numberArg, selectRuns, stringArg } from "./data.ts";
import { type ClaimCase, type Evaluator, Inconclusive, type WindowRow } from "./types.ts";

/** Consecutive (previous, current) pairs of rows within each window of a run, in step order. */
function transitions(rows: readonly WindowRow[], run: string): [WindowRow, WindowRow][] {
  const byStart = new Map<number, WindowRow[]>();
  for (const r of rows) {
    if (r.run !== run) continue;
    byStart.set(r.start, [...(byStart.get(r.start) ?? []), r]);
  }
  const out: [WindowRow, WindowRow][] = [];
  for (const w of byStart.values()) {
    w.sort((a, b) => a.step - b.step);
    for (let i = 1; i < w.length; i++) {
      if (w[i].step === w[i - 1].step + 1) out.push([w[i - 1], w[i]]);
    }
  }
  return out;
}

const flipped = ([a, b]: [WindowRow, WindowRow]) => a.sign * b.sign < 0;

/**
 * `window_sign` — args { runs, mode: "alternate" | "sample" | "steady", sample? }: per run, over
 * every pair of consecutive logged steps, the fraction of steps that
 * - `alternate`: flipped the sign (SAM: predicted 1);
 * - `sample`: flipped iff the step drew sample `sample` (1-SAM: predicted 1; inconclusive when no
 *   step drew it);
 * - `steady`: flipped the sign (GD: predicted 0).
 */
export const windowSign: Evaluator = (data, args, predicted) => {
  if (predicted === undefined) throw new TypeError("window_sign: the claim must give predicted");
  const mode = stringArg(args.mode, "mode");
  if (mode !== "alternate" && mode !== "sample" && mode !== "steady") {
    throw new TypeError(`claim argument mode must be alternate, sample or steady`);
  }
  const sample = mode === "sample" ? numberArg(args.sample, "sample") : -1;
  const rows = data.window ?? [];
  return selectRuns(data, args.runs).map((r): ClaimCase => {
    const ts = transitions(rows, r.run);
    if (ts.length === 0) throw new Inconclusive(`no logged window for run ${r.run}`);
    if (mode === "sample" && !ts.some((t) => t[1].sample === sample)) {
      throw new Inconclusive(`run ${r.run} never drew sample ${sample} in its windows`);
    }
    const hits = mode === "sample"
      ? ts.filter((t) => flipped(t) === (t[1].sample === sample)).length
      : ts.filter(flipped).length;
    return {
      label: `${r.run}: ${hits} of ${ts.length} steps`,
      measured: hits / ts.length,
      predicted,
    };
  });
};
