import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { evaluateClaim } from "./evaluate.ts";
import { signTestP } from "./paired.ts";
import { claim, data, quad, rows, run } from "./testing_data.ts";

Deno.test("signTestP: binomial tail against hand-computed values", () => {
  assertEquals(signTestP(5, 5), 1 / 32);
  assertEquals(signTestP(0, 5), 1);
  assertClose(signTestP(4, 5), 6 / 32, { rtol: 1e-15 });
  assertClose(signTestP(8, 10), (45 + 10 + 1) / 1024, { rtol: 1e-15 });
  assertThrows(() => signTestP(6, 5), /0 ≤ k ≤ n/);
});

Deno.test("paired_sign: pairs by seed, passes at p ≤ 0.05 only when every one of 5 pairs agrees", () => {
  const seeds = [0, 1, 2, 3, 4];
  const runs = seeds.flatMap((
    s,
  ) => [run(`sam-s${s}`, { seed: s }), run(`1sam-s${s}`, { seed: s })]);
  const spectra = (lowerInSeed: (s: number) => boolean) =>
    seeds.flatMap((s) => [
      ...rows(`sam-s${s}`, { phi_lambda_1: [[9, lowerInSeed(s) ? 1 : 3]] }),
      ...rows(`1sam-s${s}`, { phi_lambda_1: [[9, 2]] }),
    ]);
  const spec = claim({
    metric: "paired_sign",
    args: { runs: "sam-*", baseline: "1sam-*", metric: "phi_lambda_1" },
    predicted: 0.05,
    compare: "at_most",
  });
  const all = evaluateClaim(spec, data(quad, runs, [], spectra(() => true)));
  assertEquals([all.verdict, all.measured], ["reproduced", 1 / 32]);
  assert(all.note.startsWith("5 of 5 pairs lower"), all.note);
  const four = evaluateClaim(spec, data(quad, runs, [], spectra((s) => s !== 3)));
  assertEquals([four.verdict, four.measured], ["not reproduced", 6 / 32]);
  const higher = evaluateClaim(
    claim({ ...spec, args: { ...spec.args, direction: "higher" } }),
    data(quad, runs, [], spectra(() => false)),
  );
  assertEquals(higher.verdict, "reproduced");
});

Deno.test("paired_sign: pairs by start x0 as well as seed; a missing partner is inconclusive", () => {
  const runs = [
    run("sam-a", { x0: [1, 1, 0, 0] }),
    run("sam-b", { x0: [2, 2, 0, 0] }),
    run("1sam-a", { x0: [2, 2, 0, 0] }),
  ];
  const spectra = [
    ...rows("sam-a", { phi_trace: [[1, 1]] }),
    ...rows("sam-b", { phi_trace: [[1, 1]] }),
    ...rows("1sam-a", { phi_trace: [[1, 2]] }),
  ];
  const row = evaluateClaim(
    claim({
      metric: "paired_sign",
      args: { runs: "sam-*", baseline: "1sam-*", metric: "phi_trace" },
      predicted: 0.05,
      compare: "at_most",
    }),
    data(quad, runs, [], spectra),
  );
  assertEquals(row.verdict, "inconclusive");
  assert(/no baseline run with the initialization of sam-a/.test(row.note));
});

Deno.test("paired_sign: three pairs cannot reach p ≤ 0.05, so the claim is inconclusive", () => {
  const runs = [0, 1, 2].flatMap((
    s,
  ) => [run(`sam-s${s}`, { seed: s }), run(`gd-s${s}`, { seed: s })]);
  const spectra = [0, 1, 2].flatMap((s) => [
    ...rows(`sam-s${s}`, { phi_lambda_1: [[9, 1]] }),
    ...rows(`gd-s${s}`, { phi_lambda_1: [[9, 2]] }),
  ]);
  const row = evaluateClaim(
    claim({
      metric: "paired_sign",
      args: { runs: "sam-*", baseline: "gd-*", metric: "phi_lambda_1" },
      predicted: 0.05,
      compare: "at_most",
    }),
    data(quad, runs, [], spectra),
  );
  assertEquals(row.verdict, "inconclusive");
  assert(/3 pairs cannot reach p ≤ 0.05 \(a sign test needs ≥ 5 pairs\)/.test(row.note), row.note);
});
