import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { toyPhi } from "../theory/toy4d_flows.ts";
import { fitSlope, matchesRun, valueAt } from "./data.ts";
import { badness, checkClaimArgs, evaluateClaim, parseClaims } from "./evaluate.ts";
import { toyTrackingErrors } from "./toy.ts";
import { claim, data, quad, rows, run, toy } from "./testing_data.ts";

Deno.test("data helpers: run patterns, checkpoint lookup, slope", () => {
  assert(matchesRun("sam-rho0.1", "sam-*") && !matchesRun("usam-rho0.1", "sam-*"));
  assert(matchesRun("sam", "sam*") && !matchesRun("mbsam", "sam*"));
  assert(matchesRun("a.b", "a.b") && !matchesRun("axb", "a.b"));
  const r = rows("a", { q: [[0, 1], [50, 2], [100, 3]] });
  assertEquals(valueAt(r, "a", "q").value, 3);
  assertEquals(valueAt(r, "a", "q", "first").value, 1);
  assertEquals(valueAt(r, "a", "q", 0.4).value, 2);
  const { slope, se } = fitSlope([0, 1, 2], [1, 3, 5]);
  assertClose([slope, se], [2, 0], { atol: 1e-12 });
});

Deno.test("badness: pass iff ≤ 1 for each compare, zero tolerance handled", () => {
  const c = (measured: number, predicted: number) => ({ label: "", measured, predicted });
  assertClose(badness(c(1.05, 1), "rel", 0.1), 0.5, { rtol: 1e-12 });
  assertClose(badness(c(1.2, 1), "abs", 0.1), 2, { rtol: 1e-12 });
  assert(badness(c(-0.3, 0), "at_most", 0) <= 1 && badness(c(0.01, 0), "at_most", 0) > 1);
  assert(badness(c(0.85, 1), "at_least", 0.2) <= 1 && badness(c(0.75, 1), "at_least", 0.2) > 1);
  // Among passing zero-tolerance cases the one nearer the bound is worse.
  assert(badness(c(-0.1, 0), "at_most", 0) > badness(c(-0.5, 0), "at_most", 0));
});

Deno.test("parseClaims validates fields and names the claim", () => {
  const ok = parseClaims([{
    kind: "prediction",
    id: "a",
    source: "s",
    statement: "t",
    metric: "final_value",
    args: { runs: "x" },
    predicted: 1,
    tolerance: 0.1,
  }]);
  assertEquals(ok[0].compare, "abs");
  assertThrows(() => parseClaims([{ id: "a" }], "exp.claims"), /exp\.claims\[0\]\.source/);
  assertThrows(
    () =>
      parseClaims([{
        id: "a",
        kind: "sanity",
        source: "s",
        statement: "t",
        metric: "nope",
        tolerance: 0,
      }]),
    /not an evaluator/,
  );
  assertThrows(
    () =>
      parseClaims([{
        id: "a",
        kind: "sanity",
        source: "s",
        statement: "t",
        metric: "slope",
        tolerance: 0,
        x: 1,
      }]),
    /\.x is not a claim field/,
  );
  const dup = {
    id: "a",
    kind: "sanity",
    source: "s",
    statement: "t",
    metric: "slope",
    tolerance: 0,
  };
  assertThrows(() => parseClaims([dup, dup]), /used twice/);
});

Deno.test("sam_limit_norm: ηρλ1/(2 − ηλ1) = 0.0125 for η = 0.1, ρ = 0.05, λ1 = 4; fails when off", () => {
  const spec = claim({
    metric: "sam_limit_norm",
    args: { runs: "sam*" },
    compare: "rel",
    tolerance: 1e-3,
  });
  const good = data(quad, [run("sam")], rows("sam", { param_norm: [[0, 1], [100, 0.0125001]] }));
  const row = evaluateClaim(spec, good);
  assertEquals(row.verdict, "reproduced");
  assertClose(row.predicted, 0.0125, { rtol: 1e-12 });
  assertEquals(row.measured, 0.0125001);
  const bad = data(quad, [run("sam")], rows("sam", { param_norm: [[0, 1], [100, 0.013]] }));
  assertEquals(evaluateClaim(spec, bad).verdict, "not reproduced");
});

Deno.test("inconclusive: missing runs, NaN values and diverged runs, with the reason", () => {
  const spec = claim({
    metric: "final_value",
    args: { runs: "sam*", metric: "cos_align" },
    predicted: 1,
    tolerance: 0.1,
  });
  const none = evaluateClaim(spec, data(quad, [run("gd")], []));
  assertEquals(none.verdict, "inconclusive");
  assert(/no run matches sam\*/.test(none.note));
  const nan = evaluateClaim(
    spec,
    data(quad, [run("sam")], [], rows("sam", { cos_align: [[5, NaN]] })),
  );
  assertEquals(nan.verdict, "inconclusive");
  assert(/cos_align of run sam at step 5 is NaN/.test(nan.note));
  const div = evaluateClaim(
    spec,
    data(
      quad,
      [run("sam", { diverged: "diverged at step 7" })],
      [],
      rows("sam", { cos_align: [[5, 1]] }),
    ),
  );
  assertEquals(div.verdict, "inconclusive");
  assert(/diverged at step 7/.test(div.note));
});

Deno.test("final_value over several runs reports the worst run; aggregate mean gives spread", () => {
  const spectra = [
    ...rows("sam-a", { cos_align: [[10, 0.99]] }),
    ...rows("sam-b", { cos_align: [[10, 0.8]] }),
  ];
  const d = data(quad, [run("sam-a"), run("sam-b")], [], spectra);
  const row = evaluateClaim(
    claim({
      metric: "final_value",
      args: { runs: "sam-*", metric: "cos_align" },
      predicted: 1,
      tolerance: 0.1,
    }),
    d,
  );
  assertEquals([row.verdict, row.measured], ["not reproduced", 0.8]);
  assert(row.note.startsWith("worst of 2: sam-b"));
  const mean = evaluateClaim(
    claim({
      metric: "final_value",
      args: { runs: "sam-*", metric: "cos_align", aggregate: "mean" },
      predicted: 1,
      tolerance: 0.2,
    }),
    d,
  );
  assertClose(mean.measured, 0.895, { rtol: 1e-12 });
  assertClose(mean.spread, Math.sqrt(2 * 0.095 ** 2), { rtol: 1e-12 }); // sample std of 2 values
  assertEquals(mean.verdict, "reproduced");
});

Deno.test("final_value scale_by rho: angle ≤ ρ per run", () => {
  const spectra = [
    ...rows("align-rho0.01", { cos_align: [[10, Math.cos(0.005)]] }),
    ...rows("align-rho0.02", { cos_align: [[10, Math.cos(0.03)]] }),
  ];
  const runs = [run("align-rho0.01", { rho: 0.01 }), run("align-rho0.02", { rho: 0.02 })];
  const row = evaluateClaim(
    claim({
      metric: "final_value",
      args: { runs: "align-*", metric: "cos_align", transform: "angle", scale_by: "rho" },
      predicted: 1,
      compare: "at_most",
    }),
    data(quad, runs, [], spectra),
  );
  assertEquals(row.verdict, "not reproduced"); // 0.03 > 0.02
  assertClose([row.measured, row.predicted], [0.03, 0.02], { rtol: 1e-9 });
});

Deno.test("relative_change, ratio_to_baseline and slope on hand-made tables", () => {
  const spectra = [
    ...rows("gd-seed0", { phi_trace: [[10, 10], [20, 10]] }),
    ...rows("gd-seed1", { phi_trace: [[10, 8], [20, 8]] }),
    ...rows("1sam-seed0", { phi_trace: [[10, 9], [20, 6]] }),
    ...rows("1sam-seed1", { phi_trace: [[10, 8], [20, 6]] }),
  ];
  const runs = [
    run("gd-seed0"),
    run("gd-seed1", { seed: 1 }),
    run("1sam-seed0"),
    run("1sam-seed1", { seed: 1 }),
  ];
  const d = data(quad, runs, [], spectra);
  const change = evaluateClaim(
    claim({
      metric: "relative_change",
      args: { runs: "1sam*", metric: "phi_trace" },
      predicted: 0,
      compare: "at_most",
    }),
    d,
  );
  // (6 − 9)/9 = −1/3 and (6 − 8)/8 = −1/4: the worst (nearest the bound) is −1/4.
  assertEquals([change.verdict, change.measured], ["reproduced", -0.25]);
  const ratio = evaluateClaim(
    claim({
      metric: "ratio_to_baseline",
      args: { runs: "1sam*", baseline: "gd*", metric: "phi_trace" },
      predicted: 1,
      compare: "at_most",
    }),
    d,
  );
  assertClose(ratio.measured, (0.6 + 0.75) / 2, { rtol: 1e-12 });
  const inverse = evaluateClaim(
    claim({
      metric: "ratio_to_baseline",
      args: { runs: "gd*", baseline: "1sam*", metric: "phi_trace" },
      predicted: 1,
      compare: "at_most",
    }),
    d,
  );
  assertEquals(inverse.verdict, "not reproduced");
  // y = 3x² over x = lr ∈ {0.1, 0.2, 0.4} (two seeds at 0.1 averaged): slope 2.
  const sl = [
    ...rows("r1", { e: [[1, 0.03]] }),
    ...rows("r1b", { e: [[1, 0.03]] }),
    ...rows("r2", { e: [[1, 0.12]] }),
    ...rows("r3", { e: [[1, 0.48]] }),
  ];
  const slopeRow = evaluateClaim(
    claim({
      metric: "slope",
      args: { runs: "r*", x: "lr", metric: "e" },
      predicted: 2,
      tolerance: 1e-9,
    }),
    data(
      quad,
      [
        run("r1", { lr: 0.1 }),
        run("r1b", { lr: 0.1, seed: 1 }),
        run("r2", { lr: 0.2 }),
        run("r3", { lr: 0.4 }),
      ],
      [],
      sl,
    ),
  );
  assertEquals(slopeRow.verdict, "reproduced");
  assertClose(slopeRow.measured, 2, { rtol: 1e-12 });
});

Deno.test("usam_stability: diverged runs count as 'not converged', matched against ηλ1(1 + ρλ1) < 2", () => {
  const traj = [
    ...rows("usam-a", { param_norm: [[0, 1], [100, 1e-9]] }),
    ...rows("usam-b", { param_norm: [[0, 1]] }),
  ];
  const runs = [
    run("usam-a", { lr: 0.3, rho: 0.1 }), // 0.3·4·1.4 = 1.68 < 2: stable
    run("usam-b", { lr: 0.4, rho: 0.1, diverged: "diverged at step 64" }), // 2.24
  ];
  const spec = claim({ metric: "usam_stability", args: { runs: "usam-*" } });
  assertEquals(evaluateClaim(spec, data(quad, runs, traj)).verdict, "reproduced");
  // Swap the outcomes: the threshold now contradicts both runs.
  const swapped = [{ ...runs[0], lr: 0.4 }, { ...runs[1], lr: 0.3 }];
  assertEquals(evaluateClaim(spec, data(quad, swapped, traj)).verdict, "not reproduced");
});

Deno.test("sharpness claims: Cor 4.6 both forms and Table 1's notions on Γ", () => {
  // λ1(Φ) = 3, η = 0.1, ρ = 0.02: (ρ²/2)λ1 = 6e-4; finite-η 6e-4·2.3/1.7.
  const sp = rows("sam", {
    r_max: [[9, 6e-4 * 2.3 / 1.7]],
    phi_lambda_1: [[9, 3]],
    dist_to_manifold: [[9, 0.1 * 0.02 * 3 / 1.7]],
  });
  const d = data(quad, [run("sam", { lr: 0.1, rho: 0.02 })], [], sp);
  const exact = evaluateClaim(
    claim({
      metric: "max_sharpness",
      args: { runs: "sam", finite_eta: true },
      compare: "rel",
      tolerance: 1e-9,
    }),
    d,
  );
  assertEquals(exact.verdict, "reproduced");
  const plain = evaluateClaim(
    claim({ metric: "max_sharpness", args: { runs: "sam" }, compare: "rel", tolerance: 0.1 }),
    d,
  );
  assertEquals(plain.verdict, "not reproduced");
  assertClose(plain.predicted, 6e-4, { rtol: 1e-12 });
  const dist = evaluateClaim(
    claim({ metric: "sam_distance", args: { runs: "sam" }, compare: "rel", tolerance: 1e-9 }),
    d,
  );
  assertEquals(dist.verdict, "reproduced");
  // Table 1 on Γ (D = 2): R^Avg = (ρ²/(2D))Tr = 0.0025·6/4 with ρ = 0.05, Tr = 6.
  const g = rows("gd", {
    r_avg: [[9, 0.00375]],
    r_max: [[9, 0.005]],
    lambda_1: [[9, 4]],
    trace: [[9, 6]],
  });
  const dg = data(quad, [run("gd", { rho: 0.05 })], [], g);
  assertEquals(
    evaluateClaim(
      claim({
        metric: "sharpness_on_manifold",
        args: { runs: "gd", notion: "avg" },
        compare: "rel",
        tolerance: 1e-9,
      }),
      dg,
    ).verdict,
    "reproduced",
  );
  assertEquals(
    evaluateClaim(
      claim({
        metric: "sharpness_on_manifold",
        args: { runs: "gd", notion: "max" },
        compare: "rel",
        tolerance: 1e-9,
      }),
      dg,
    ).verdict,
    "reproduced",
  );
  assertEquals(
    evaluateClaim(
      claim({
        metric: "sharpness_on_manifold",
        args: { runs: "gd", notion: "max" },
        compare: "rel",
        tolerance: 1e-9,
      }),
      data(quad, [run("gd", { rho: 0.1 })], [], g),
    ).verdict,
    "not reproduced",
  );
});

Deno.test("toy claims: endpoint, GD at Φ(x0), flow error against the closed form", () => {
  const x0 = [1, 1, 0.3, 0.3];
  // Endpoint (0.1, 0) is 0.1 from argmin λ1 = (0, 0) and 1.1 from argmin λ_M = (−1, 0).
  const traj = rows("sam", { x1: [[0, 1], [1000, 0.1]], x2: [[0, 1], [1000, 0]] });
  const d = data(toy, [run("sam", { x0 })], traj);
  const end = evaluateClaim(
    claim({
      metric: "toy_endpoint",
      args: { runs: "sam", target: "lambda1" },
      compare: "at_most",
      tolerance: 1 / 6,
    }),
    d,
  );
  assertClose(end.measured, 0.1, { rtol: 1e-12 });
  assertEquals(end.verdict, "reproduced");
  const wrong = evaluateClaim(
    claim({
      metric: "toy_endpoint",
      args: { runs: "sam", target: "lambdaM" },
      compare: "at_most",
      tolerance: 1 / 6,
    }),
    d,
  );
  assertClose([wrong.measured, Number(wrong.verdict === "not reproduced")], [1.1, 1], {
    rtol: 1e-12,
  });
  // GD ending exactly at Φ(x0) passes; 0.01 off fails a 1e-3 tolerance.
  const phi = toyPhi("paper", x0);
  const gd = (dx: number) =>
    data(
      toy,
      [run("gd", { x0 })],
      rows("gd", { x1: [[0, 1], [10, phi[0] + dx]], x2: [[0, 1], [10, phi[1]]] }),
    );
  const stays = claim({
    metric: "toy_gd_stays",
    args: { runs: "gd" },
    compare: "at_most",
    tolerance: 1e-3,
  });
  assertEquals(evaluateClaim(stays, gd(0)).verdict, "reproduced");
  assertEquals(evaluateClaim(stays, gd(0.01)).verdict, "not reproduced");
  // SAM flow (uncorrected) from Φ(x0) is Φ(x0)·e^{−τ}: an endpoint there has error 0; the
  // bound η ln(1/ρ) = 0.1·ln 20 is the prediction.
  const tau = 1.5; // rows() sets τ = step/100
  const flowEnd = [phi[0] * Math.exp(-tau), phi[1] * Math.exp(-tau)];
  const fd = data(
    toy,
    [run("sam", { x0 })],
    rows("sam", { x1: [[0, 1], [150, flowEnd[0] + 0.03]], x2: [[0, 1], [150, flowEnd[1] + 0.04]] }),
  );
  const err = evaluateClaim(
    claim({
      metric: "toy_flow_error",
      args: { runs: "sam", flow: "sam", bound: "lr_log_inv_rho" },
      compare: "at_most",
    }),
    fd,
  );
  assertClose(err.measured, 0.05, { rtol: 1e-8 });
  assertClose(err.predicted, 0.1 * Math.log(20), { rtol: 1e-12 });
  assertEquals(err.verdict, "reproduced");
  const tight = evaluateClaim(
    claim({
      metric: "toy_flow_error",
      args: { runs: "sam", flow: "sam" },
      predicted: 0,
      compare: "at_most",
      tolerance: 0.01,
    }),
    fd,
  );
  assertEquals(tight.verdict, "not reproduced");
});

Deno.test("toyTrackingErrors: one row per run a flow-error claim covers, the claim's numbers", () => {
  const x0 = [1, 1, 0.3, 0.3];
  const phi = toyPhi("paper", x0);
  const tau = 1.5; // rows() sets τ = step/100
  const end = [phi[0] * Math.exp(-tau) + 0.03, phi[1] * Math.exp(-tau) + 0.04];
  const d = data(
    toy,
    [run("sam", { x0 })],
    rows("sam", { x1: [[0, 1], [150, end[0]]], x2: [[0, 1], [150, end[1]]] }),
  );
  const claims = [
    claim({ metric: "toy_flow_error", args: { runs: "sam", flow: "sam" }, predicted: 0 }),
    claim({
      metric: "toy_flow_error",
      args: { runs: "sam", flow: "sam", corrected: true },
      predicted: 0,
    }),
    claim({ metric: "toy_endpoint", args: { runs: "sam", target: "lambda1" } }),
  ];
  const rowsOut = toyTrackingErrors(d, claims);
  assertEquals(rowsOut.length, 1);
  assertClose(rowsOut[0].tracking_error, 0.05, { rtol: 1e-8 });
  // The corrected flow moves faster ((1 − ηλ/2)⁻² > 1), so the same endpoint is a different
  // distance from it; the value must equal what the corrected claim measures.
  const corrected = evaluateClaim(claims[1], d);
  assertClose(rowsOut[0].tracking_error_corrected, corrected.measured, { rtol: 1e-12 });
  assert(Math.abs(rowsOut[0].tracking_error_corrected - 0.05) > 1e-6);
});

Deno.test("checkClaimArgs: a malformed argument names the claim before anything runs", () => {
  const spec = (args: Record<string, unknown>, metric = "final_value") =>
    parseClaims([{
      id: "c",
      kind: "prediction",
      source: "s",
      statement: "t",
      metric,
      args,
      predicted: 0,
      tolerance: 0,
    }]);
  checkClaimArgs(spec({ runs: "sam", metric: "loss" }), quad);
  assertThrows(
    () => checkClaimArgs(spec({ runs: 5, metric: "loss" }), quad),
    /claims\[0\] \(c\): final_value: claim argument runs must be a non-empty string/,
  );
  assertThrows(
    () => checkClaimArgs(spec({ runs: "sam", target: "lambda1" }, "toy_endpoint"), quad),
    /needs a toy4d data set/,
  );
});

Deno.test("measurement: reported whatever the value, never judged; inconclusive without one", () => {
  const d = data(quad, [run("a")], [], rows("a", { test_loss: [[10, 0.7]] }));
  const spec = claim({
    kind: "measurement",
    metric: "final_value",
    args: { runs: "a", metric: "test_loss" },
    predicted: 0,
  });
  const row = evaluateClaim(spec, d);
  assertEquals([row.kind, row.verdict, row.measured], ["measurement", "reported", 0.7]);
  assertEquals(row.note, "mean of 1; a 0.7000");
  const missing = evaluateClaim({ ...spec, args: { runs: "a", metric: "phi_test_loss" } }, d);
  assertEquals(missing.verdict, "inconclusive");
});
