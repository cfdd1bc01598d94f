import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { toyCoefficients, toyPhi, toySamFlow } from "../theory/toy4d_flows.ts";
import { evaluateClaim } from "./evaluate.ts";
import { claim, data, quad, rows, run, toy } from "./testing_data.ts";

Deno.test("toy_sharpness_flow: R^Max on SAM's λ1 flow passes; a frozen λ1 (GD-like) fails", () => {
  const x0 = [1, 1, 0.3, 0.3];
  const r = run("sam", { lr: 0.01, rho: 0.002, x0 });
  const c = toyCoefficients("paper");
  const X0 = toyPhi("paper", x0);
  const taus = [0.5, 1, 2, 3];
  const onFlow = taus.map((t): [number, number] => [
    t * 100,
    r.rho ** 2 * c.f1(toySamFlow("paper", X0, t)) / 2,
  ]);
  const frozen = taus.map((t): [number, number] => [t * 100, r.rho ** 2 * c.f1(X0) / 2]);
  const spec = claim({
    metric: "toy_sharpness_flow",
    args: { runs: "sam", sharpness: "r_max", flow: "sam" },
    tolerance: 0.05,
    compare: "at_most",
  });
  const ok = evaluateClaim(spec, data(toy, [r], [], rows("sam", { r_max: onFlow })));
  assertEquals(ok.verdict, "reproduced");
  assert(ok.measured < 1e-6, `${ok.measured}`);
  const bad = evaluateClaim(spec, data(toy, [r], [], rows("sam", { r_max: frozen })));
  assertEquals(bad.verdict, "not reproduced"); // F1 falls by e^{-2·3}-ish along the flow
});

Deno.test("toy_endpoint_slope: distance ∝ √η gives slope 0.5; conservative subtracts 2 SE", () => {
  const lrs = [0.02, 0.005, 0.002, 0.0005];
  const runs = lrs.map((lr) => run(`asc-${lr}`, { lr, optimizer: "asc-exact" }));
  const noise = [1.05, 0.95, 1.02, 0.98];
  const traj = lrs.flatMap((lr, i) =>
    rows(`asc-${lr}`, { x1: [[10, -1 + 2 * Math.sqrt(lr) * noise[i]]], x2: [[10, 0]] })
  );
  const spec = claim({
    metric: "toy_endpoint_slope",
    args: { runs: "asc-*", target: "lambdaM", x: "lr" },
    predicted: 0.5,
    tolerance: 0.05,
  });
  const plain = evaluateClaim(spec, data(toy, runs, traj));
  assertClose(plain.measured, 0.5, { atol: 0.03 });
  assert(plain.spread > 0);
  const cons = evaluateClaim(
    claim({
      ...spec,
      args: { ...spec.args, conservative: true },
      predicted: 0,
      compare: "at_least",
    }),
    data(toy, runs, traj),
  );
  assertClose(cons.measured, plain.measured - 2 * plain.spread, { rtol: 1e-12 });
  assertEquals(cons.verdict, "reproduced");
});

Deno.test("rate_slope: a drift per step ∝ η² has slope 2 in η, one ∝ η has slope 1", () => {
  const lrs = [0.01, 0.02, 0.04];
  const make = (p: number) =>
    data(
      quad,
      lrs.map((lr) => run(`m-${lr}`, { lr })),
      [],
      lrs.flatMap((lr) => rows(`m-${lr}`, { phi_trace: [[1000, 5], [3000, 5 - 2000 * lr ** p]] })),
    );
  const spec = (p: number) =>
    claim({
      metric: "rate_slope",
      args: { runs: "m-*", metric: "phi_trace" },
      predicted: p,
      tolerance: 0.1,
    });
  assertClose(evaluateClaim(spec(2), make(2)).measured, 2, { rtol: 1e-9 });
  assertEquals(evaluateClaim(spec(2), make(1)).verdict, "not reproduced");
  assertEquals(evaluateClaim(spec(1), make(1)).verdict, "reproduced");
});

Deno.test("sharpness_ratio: R^Asc/(ρ²λ_M/2) = 1 passes, R^Asc at λ1 instead fails", () => {
  const r = run("asc", { rho: 0.02 });
  const spec = claim({
    metric: "sharpness_ratio",
    args: { runs: "asc", sharpness: "r_asc", spectral: "phi_lambda_m" },
    tolerance: 0.1,
    compare: "rel",
  });
  const at = (r_asc: number) =>
    data(quad, [r], [], rows("asc", { r_asc: [[5, r_asc]], phi_lambda_m: [[5, 2]] }));
  assertEquals(evaluateClaim(spec, at(0.02 ** 2 * 2 / 2)).verdict, "reproduced");
  assertEquals(evaluateClaim(spec, at(0.02 ** 2 * 4 / 2)).verdict, "not reproduced");
});
