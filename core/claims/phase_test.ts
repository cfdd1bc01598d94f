import { assertEquals } from "../../testing/assert.ts";
import { samLimitNorm } from "../theory/quadratic.ts";
import { evaluateClaim } from "./evaluate.ts";
import { phase1End } from "./phase.ts";
import { claim, data, quad, rows, run } from "./testing_data.ts";

/** ‖x_t‖ of an idealized SAM run: exponential decay at rate ηλ until it meets the 2-cycle d. */
function sam(name: string, lr: number, rho: number, decay = 1): [number, number][] {
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

Deno.test("phase1_length: t_I ∝ ln(1/ρ)/η passes; a 1/ρ scaling and a run that never settles fail", () => {
  const grid = [[0.05, 0.01], [0.1, 0.01], [0.05, 0.1], [0.2, 0.1]];
  const runs = grid.map(([lr, rho]) => run(`sam-${lr}-${rho}`, { lr, rho }));
  const spec = claim({
    metric: "phase1_length",
    args: { runs: "sam-*" },
    predicted: 1,
    tolerance: 1,
    compare: "at_most",
  });
  const ideal = runs.flatMap((r) => rows(r.run, { param_norm: sam(r.run, r.lr, r.rho) }));
  assertEquals(evaluateClaim(spec, data(quad, runs, ideal)).verdict, "reproduced");
  // a Phase I whose rate falls with ρ (t ∝ 1/(ηρ)) varies by far more than a factor 2 over ρ
  const slow = runs.flatMap((r) =>
    rows(r.run, { param_norm: sam(r.run, r.lr, r.rho, r.rho / 0.1) })
  );
  assertEquals(evaluateClaim(spec, data(quad, runs, slow)).verdict, "not reproduced");
  // GD-like: converges through the band to 0 and never stays there
  const gd = runs.flatMap((r) =>
    rows(r.run, { param_norm: sam(r.run, r.lr, r.rho).map(([t]) => [t, Math.exp(-r.lr * t)]) })
  );
  assertEquals(evaluateClaim(spec, data(quad, runs, gd)).verdict, "not reproduced");
});
