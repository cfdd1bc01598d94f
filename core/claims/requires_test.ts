import { assert, assertEquals, assertThrows } from "../../testing/assert.ts";
import { samLimitNorm } from "../theory/quadratic.ts";
import { evaluateClaim, parseClaims } from "./evaluate.ts";
import { checkRequirements, parseRequirements } from "./requires.ts";
import { claim, data, quad, rows, run } from "./testing_data.ts";

/** A final_value claim on cos_align that passes on its own (cos = 1), plus the given conditions. */
const aligned = (requires: Record<string, unknown>) =>
  claim({
    metric: "final_value",
    args: { runs: "sam*", metric: "cos_align" },
    predicted: 1,
    tolerance: 0.01,
    requires: parseRequirements(requires, "requires"),
  });

Deno.test("requires: each condition passes, fails (inconclusive with the reason) and is reported", () => {
  const lr = 0.1, rho = 0.02, lambda1 = 4;
  const d2 = samLimitNorm(lr, rho, lambda1);
  const spectra = (gap: number, dist: number, conv: number, rank: number, l1 = lambda1) =>
    rows("sam", {
      cos_align: [[10, 1]],
      eigengap: [[10, gap]],
      phi_eigengap: [[10, gap]],
      phi_rank_ratio: [[10, rank]],
      lambda_1: [[10, l1]],
      phi_lambda_1: [[10, l1]],
      dist_to_manifold: [[10, dist]],
      phi_converged: [[10, conv]],
    });
  const runs = [run("sam", { lr, rho })];
  const good = data(quad, runs, [], spectra(0.5, d2, 1, 100));
  const cases: [Record<string, unknown>, ReturnType<typeof spectra>, RegExp, typeof runs?][] = [
    [{ eigengap: 0.05 }, spectra(0.004, d2, 1, 100), /assumption: eigengap 0\.004 < 0\.05 \(sam\)/],
    [{ rank_ratio: 10 }, spectra(0.5, d2, 1, 2), /λ_M\/λ_\{M\+1\} 2 < 10/],
    [{ rho_over_lr: 0.25 }, spectra(0.5, d2, 1, 100), /ρ\/η 0\.5 > 0\.25/, [
      run("sam", { lr, rho: 0.05 }),
    ]],
    [{ lr_log_inv_rho: 0.5 }, spectra(0.5, d2, 1, 100), /η ln\(1\/ρ\) 0\.782 > 0\.5/, [
      run("sam", { lr: 0.2, rho }),
    ]],
    [{ lr_lambda1: 1 }, spectra(0.5, d2, 1, 100, 16), /ηλ1 1\.6 > 1/],
    [{ phase2: 3 }, spectra(0.5, 10 * d2, 1, 100), /‖x − Φ‖ \/ \(ηρλ1\/\(2 − ηλ1\)\) 10 > 3/],
    [{ phi_converged: true }, spectra(0.5, d2, 0, 100), /did not converge/],
  ];
  for (const [req, bad, reason, badRuns] of cases) {
    const ok = evaluateClaim(aligned(req), good);
    assertEquals(ok.verdict, "reproduced", JSON.stringify(req));
    assert(ok.requires !== "", "conditions are reported");
    const no = evaluateClaim(aligned(req), data(quad, badRuns ?? runs, [], bad));
    assertEquals(no.verdict, "inconclusive", JSON.stringify(req));
    assert(reason.test(no.note), `${no.note} ~ ${reason}`);
    assert(/measured: reproduced/.test(no.note), "the evaluator's numbers are still shown");
  }
});

Deno.test("requires: a failed assumption never turns a failing claim into a pass or a fail", () => {
  const spectra = rows("sam", { cos_align: [[10, 0.5]], eigengap: [[10, 0.001]] });
  const row = evaluateClaim(aligned({ eigengap: 0.05 }), data(quad, [run("sam")], [], spectra));
  assertEquals(row.verdict, "inconclusive");
  assert(/measured: not reproduced/.test(row.note));
});

Deno.test("requires: an unmeasured condition fails; the worst run is named", () => {
  const check = checkRequirements(
    parseRequirements({ eigengap: 0.05 }, "r"),
    data(quad, [run("sam-a"), run("sam-b")], [], [
      ...rows("sam-a", { eigengap: [[1, 0.3]] }),
      ...rows("sam-b", { eigengap: [[1, 0.1]] }),
    ]),
    { runs: "sam-*" },
  );
  assertEquals(check.failure, "");
  assert(check.text.includes("min 0.1 (sam-b)"), check.text);
  const missing = checkRequirements(
    parseRequirements({ eigengap: 0.05 }, "r"),
    data(quad, [run("sam-a")], [], []),
    { runs: "sam-*" },
  );
  assert(/not measured for sam-a/.test(missing.failure));
});

Deno.test("parseRequirements and parseClaims reject unknown or malformed conditions", () => {
  assertThrows(
    () => parseRequirements({ gap: 1 }, "c.requires"),
    /c\.requires\.gap is not a condition/,
  );
  assertThrows(
    () => parseRequirements({ eigengap: -1 }, "c.requires"),
    /must be a finite number > 0/,
  );
  assertThrows(() => parseRequirements({ phi_converged: 1 }, "c.requires"), /must be true/);
  assertThrows(() => parseRequirements([1], "c.requires"), /must be a mapping/);
  const spec = parseClaims([{
    id: "a",
    kind: "prediction",
    source: "s",
    statement: "t",
    metric: "final_value",
    args: {},
    predicted: 1,
    tolerance: 0,
    requires: { eigengap: 0.05, at: "first" },
  }])[0];
  assertEquals(spec.requires, { eigengap: 0.05, at: "first" });
  assertThrows(
    () => parseClaims([{ id: "a", source: "s", statement: "t", metric: "slope", tolerance: 0 }]),
    /kind must be one of prediction, sanity/,
  );
});

Deno.test("phi_* values are used only where the flow to Φ converged", () => {
  const spec = claim({
    metric: "final_value",
    args: { runs: "sam", metric: "phi_trace" },
    predicted: 2,
    tolerance: 0.1,
  });
  const conv = (c: number) =>
    data(quad, [run("sam")], [], rows("sam", { phi_trace: [[5, 2]], phi_converged: [[5, c]] }));
  assertEquals(evaluateClaim(spec, conv(1)).verdict, "reproduced");
  const no = evaluateClaim(spec, conv(0));
  assertEquals(no.verdict, "inconclusive");
  assert(/Φ did not converge/.test(no.note));
});
