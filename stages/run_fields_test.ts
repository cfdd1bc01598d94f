import { assertEquals } from "../testing/assert.ts";
import { type GroupSummary, LIMITS, parseConfig } from "../pipeline/config.ts";
import { GROUP_STEPS, MAX_DEFAULT_GROUP, runsAxisGroupSize, TRAIN_RUNS } from "./run_fields.ts";

const toy = { kind: "toy4d", family: "paper" };

Deno.test("runs_axis: true groups closed-form runs by steps (64…1024 runs), networks by 64", () => {
  const runs = (steps: number, n = 3, extra = {}) =>
    Array.from({ length: n }, () => ({ steps, backend: "f64", ...extra }));
  assertEquals(runsAxisGroupSize(runs(1000), toy), GROUP_STEPS / 1000);
  assertEquals(runsAxisGroupSize(runs(1), toy), MAX_DEFAULT_GROUP);
  assertEquals(runsAxisGroupSize(runs(10_000), toy), LIMITS.groupSize);
  assertEquals(runsAxisGroupSize(runs(100_000), toy), LIMITS.groupSize);
  // The entry's longest run sizes its groups; inner steps count as steps.
  assertEquals(runsAxisGroupSize([...runs(1), { steps: 2000, backend: "f64" }], toy), 320);
  assertEquals(runsAxisGroupSize(runs(100, 3, { inner_steps: 20 }), toy), 320);
  for (const kind of ["sanity2d", "quadratic", "two-quadratics"]) {
    assertEquals(runsAxisGroupSize(runs(1000), { kind }), 640, kind);
  }
  // Whatever the backend: on tfjs a closed-form group's step is one batched computation.
  for (const backend of ["wasm", "cpu", "webgpu", "auto"]) {
    assertEquals(runsAxisGroupSize(runs(1000, 3, { backend }), toy), 640, backend);
  }
  for (const kind of ["mlp", "diagnet"]) {
    assertEquals(runsAxisGroupSize(runs(1), { kind }), LIMITS.groupSize, kind);
  }
});

Deno.test("a toy entry with runs_axis: true is split into groups of GROUP_STEPS steps", () => {
  const text = `name: q
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 1000, lr: 0.05, x0: [1, 1, 0.3, 0.3], runs_axis: true }
      runs:
        - { name: s, optimizer: 1sam, rho: 0.05, seed: { range: [0, 1300] } }
    tables: [summary]
`;
  const runs = parseConfig(text, "q.yaml", { runs: TRAIN_RUNS }).experiments[0].runs;
  const sizes = new Map<string, number>();
  for (const r of runs) sizes.set(r.group!, (r.params.runs_axis as unknown as GroupSummary).runs);
  assertEquals([...sizes.values()], [640, 640, 20]);
  assertEquals(runs.filter((r) => r.group === runs[0].group).length, 640);
});
