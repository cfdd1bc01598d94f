import { assertEquals } from "../../testing/assert.ts";
import { samLimitNorm } from "../theory/quadratic.ts";
import { evaluateClaim } from "./evaluate.ts";
import { phase1End } from "./phase.ts";
import { claim, data, quad, rows, run } from "./testing_data.ts";

/** ‖x_t‖ of an idealized SAM run: exponential decay at rate ηλ until it meets the 2-cycle d. */
function sam(lr: number, rho: number, decay = 1): [number, number][] {
  const d = samLimitNorm(lr, rho, 4);
  const out: [number, number][] = [];
  for (let t = 1; t <= 1e5; t = Math.ceil(t * 1.05)) {
    out.push([t, Math.max(d, Math.exp(-decay * lr * t))]);
  }
  return out;
}

Deno.test("phase1End: first step from which the norm stays in the band", () => {
  const s = [[1, 1], [2, 0.1], [3, 0.01], [4, 0.1], [5, 0.011], [6, 0.01]].map(([step, value]) => ({
    step,
    value,
  }));
  assertEquals(phase1End(s, 0.01, 2), 5);
  assertEquals(phase1End(s.slice(0, 4), 0.01, 2), undefined);
});

Deno.test("phase1_length: a Phase I of ln(1/(ηρ))/(ηλ_min) steps is within the bound; 1/(ηρ) and a run that never settles fail", () => {
  const grid = [[0.05, 0.01], [0.1, 0.01], [0.05, 0.1], [0.2, 0.1]];
  const runs = grid.map(([lr, rho]) => run(`sam-${lr}-${rho}`, { lr, rho }));
  const spec = claim({
    metric: "phase1_length",
    args: { runs: "sam-*" },
    predicted: 2,
    tolerance: 0,
    compare: "at_most",
  });
  const lambdaMin = 2; // the quadratic's eigenvalues are 4 and 2
  const gdLike = runs.flatMap((r) => rows(r.run, { param_norm: sam(r.lr, r.rho, lambdaMin) }));
  assertEquals(evaluateClaim(spec, data(quad, runs, gdLike)).verdict, "reproduced");
  // a Phase I whose rate falls with ρ (t ∝ 1/(ηρ)) exceeds the bound at small ρ
  const slow = runs.flatMap((r) =>
    rows(r.run, { param_norm: sam(r.lr, r.rho, lambdaMin * r.rho) })
  );
  assertEquals(evaluateClaim(spec, data(quad, runs, slow)).verdict, "not reproduced");
  // GD-like: converges through the band to 0 and never stays there
  const gd = runs.flatMap((r) =>
    rows(r.run, { param_norm: sam(r.lr, r.rho).map(([t]) => [t, Math.exp(-r.lr * t)]) })
  );
  assertEquals(evaluateClaim(spec, data(quad, runs, gd)).verdict, "not reproduced");
});
