/**
 * Paired comparisons between two methods run from the same initialization (docs/theory.md §9): the
 * evidence that tells the biases apart. Runs pair by seed and start x0; the verdict is a one-sided
 * sign test over the pairs.
 * @module
 */
import { atArg, metricAt, selectRuns, stringArg } from "./data.ts";
import { type ClaimCase, type Evaluator, Inconclusive, type RunRecord } from "./types.ts";

/** P(X ≥ k) for X ~ Binomial(n, ½): the one-sided sign test's p-value for k successes of n. */
export function signTestP(k: number, n: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || k > n) {
    throw new RangeError(`sign test needs integers 0 ≤ k ≤ n (got k = ${k}, n = ${n})`);
  }
  let p = 0, c = 1; // c = C(n, i), built up from C(n, 0) without overflow for n ≤ 1000
  for (let i = 0; i <= n; i++) {
    if (i >= k) p += c;
    c = c * (n - i) / (i + 1);
  }
  return p / 2 ** n;
}

/** What identifies a common initialization: the seed and the start x0. */
function pairKey(r: RunRecord): string {
  return `${r.seed}|${r.x0 ? r.x0.join(",") : ""}`;
}

/**
 * `paired_sign` — args { runs, baseline, metric, at?, direction?: "lower" | "higher" }: pairs each
 * run with the baseline run of the same seed and x0 and counts the pairs where the run's metric is
 * strictly lower (or higher) than the baseline's. One case: measured = the one-sided sign-test
 * p-value of that count (ties count against), compared with the claim's predicted level
 * (`at_most`); the label lists k of n and every pair's ratio. Inconclusive when there are too
 * few pairs for even a unanimous result to reach that level.
 */
export const pairedSign: Evaluator = (data, args, predicted) => {
  if (predicted === undefined) throw new TypeError("paired_sign: the claim must give predicted");
  const metric = stringArg(args.metric, "metric");
  const at = atArg(args.at);
  const direction = args.direction ?? "lower";
  if (direction !== "lower" && direction !== "higher") {
    throw new TypeError(`claim argument direction must be lower or higher`);
  }
  const base = new Map(selectRuns(data, args.baseline).map((r) => [pairKey(r), r]));
  const pairs = selectRuns(data, args.runs).map((r) => {
    const b = base.get(pairKey(r));
    if (!b) throw new Inconclusive(`no baseline run with the initialization of ${r.run}`);
    return {
      run: r.run,
      a: metricAt(data, r.run, metric, at),
      b: metricAt(data, b.run, metric, at),
    };
  });
  // With too few pairs even a unanimous result cannot reach the level: no evidence either way.
  if (signTestP(pairs.length, pairs.length) > predicted) {
    throw new Inconclusive(
      `${pairs.length} pairs cannot reach p ≤ ${predicted} (a sign test needs ≥ ${
        Math.ceil(Math.log2(1 / predicted))
      } pairs)`,
    );
  }
  const wins = pairs.filter((p) => direction === "lower" ? p.a < p.b : p.a > p.b).length;
  const ratios = pairs.map((p) => `${p.run} ${(p.a / p.b).toPrecision(4)}`).join(", ");
  const c: ClaimCase = {
    label: `${wins} of ${pairs.length} pairs ${direction}; ratio to baseline: ${ratios}`,
    measured: signTestP(wins, pairs.length),
    predicted,
  };
  return [c];
};
