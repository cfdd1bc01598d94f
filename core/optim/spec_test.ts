import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { stepPlan, validateOptimizerSpec } from "./spec.ts";
import type { OptimizerSpec } from "./types.ts";

Deno.test("validateOptimizerSpec accepts every kind with its fields", () => {
  const ok: OptimizerSpec[] = [
    { kind: "gd", lr: 0.1, rho: 0 },
    { kind: "gd", lr: 0.1, rho: 0.05 },
    { kind: "sgd", lr: 0.1, rho: 0, batch: 3 },
    { kind: "sam", lr: 0.1, rho: 0.05 },
    { kind: "usam", lr: 0.1, rho: 0.05 },
    { kind: "1sam", lr: 0.1, rho: 0.05 },
    { kind: "1sam", lr: 0.1, rho: 0.05, batch: 1 },
    { kind: "minibatch-sam", lr: 0.1, rho: 0.05, batch: 5 },
    { kind: "asc-exact", lr: 0.1, rho: 0.05 },
    { kind: "max", lr: 0.1, rho: 0.05, innerSteps: 0, innerStepSize: 2 },
    { kind: "avg", lr: 0.1, rho: 0.05 },
    { kind: "label-noise-sgd", lr: 0.1, rho: 0, batch: 1, sigma: 0.5 },
  ];
  for (const spec of ok) validateOptimizerSpec(spec, 5);
});

Deno.test("validateOptimizerSpec names the offending field", () => {
  const bad: [OptimizerSpec, RegExp][] = [
    [{ kind: "nope" as "gd", lr: 0.1, rho: 0 }, /kind must be one of/],
    [{ kind: "gd", lr: 0, rho: 0 }, /gd: lr must be a finite number > 0 \(got 0\)/],
    [{ kind: "gd", lr: Number.NaN, rho: 0 }, /lr must be/],
    [{ kind: "sam", lr: 0.1, rho: -1 }, /sam: rho must be a finite number ≥ 0/],
    [{ kind: "sgd", lr: 0.1, rho: 0 }, /sgd: batch is required/],
    [{ kind: "sgd", lr: 0.1, rho: 0, batch: 6 }, /batch must be an integer in \[1, M = 5\]/],
    [{ kind: "minibatch-sam", lr: 0.1, rho: 0, batch: 1.5 }, /batch must be an integer/],
    [{ kind: "1sam", lr: 0.1, rho: 0, batch: 2 }, /1sam: batch must be 1 or absent/],
    [{ kind: "sam", lr: 0.1, rho: 0, batch: 2 }, /sam: batch is not used/],
    [{ kind: "max", lr: 0.1, rho: 0.1, innerSteps: -1 }, /innerSteps must be an integer ≥ 0/],
    [{ kind: "max", lr: 0.1, rho: 0.1, innerStepSize: 1 }, /innerStepSize must be .* ≥ 2/],
    [{ kind: "sam", lr: 0.1, rho: 0.1, innerSteps: 3 }, /innerSteps is only used by max/],
    [{ kind: "label-noise-sgd", lr: 0.1, rho: 0, batch: 1 }, /sigma must be/],
    [{ kind: "label-noise-sgd", lr: 0.1, rho: 0, batch: 1, sigma: -1 }, /sigma must be/],
    [{ kind: "sgd", lr: 0.1, rho: 0, batch: 1, sigma: 1 }, /sigma is only used/],
  ];
  for (const [spec, pattern] of bad) {
    assertThrows(() => validateOptimizerSpec(spec, 5), pattern);
  }
  assertThrows(() => validateOptimizerSpec({ kind: "gd", lr: 1, rho: 0 }, 0), /numSamples/);
});

Deno.test("stepPlan: ρ = 0 resolves every kind to the unperturbed base step", () => {
  for (const kind of ["sam", "usam", "asc-exact", "max", "avg"] as const) {
    const p = stepPlan({ kind, lr: 0.1, rho: 0 }, 4);
    assertEquals([p.scaling, p.applied, p.rho, p.batch], ["none", "perturbed", 0, 4]);
  }
  const one = stepPlan({ kind: "1sam", lr: 0.1, rho: 0 }, 4);
  assertEquals([one.scaling, one.batch], ["none", 1]);
  const sam = stepPlan({ kind: "sam", lr: 0.1, rho: 0.2 }, 4);
  assertEquals([sam.scaling, sam.applied, sam.rho, sam.batch], ["normalized", "perturbed", 0.2, 4]);
  // gd keeps ρ only for its τ clock; the step itself never perturbs.
  assertEquals(stepPlan({ kind: "gd", lr: 0.1, rho: 0.2 }, 4).rho, 0);
  const ln = stepPlan({ kind: "label-noise-sgd", lr: 0.1, rho: 0, batch: 2, sigma: 0.3 }, 4);
  assertEquals([ln.scaling, ln.applied, ln.sigma], ["none", "label-noise", 0.3]);
});
