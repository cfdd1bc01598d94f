import { assert, assertEquals } from "../testing/assert.ts";
import { parseConfig } from "./config.ts";
import { matchesPattern, planInstances, withGroups, withUpstream } from "./plan.ts";
import { TRAIN_RUNS } from "../stages/run_fields.ts";

const TEXT = `name: t
experiments:
  - id: a
    dataset: { kind: toy, n: 2 }
    train:
      defaults: { steps: 10, lr: 0.1, backend: f64 }
      runs:
        - { name: sam, optimizer: sam, rho: [0.01, 0.02] }
        - { name: gd, optimizer: gd }
    spectral: { k: 2 }
    tables: [summary]
  - id: b
    dataset: { kind: toy, n: 3 }
    train:
      runs: [{ name: gd, optimizer: gd, lr: 0.1, steps: 5 }]
    tables: [trajectory]
    claims: [{ id: c1 }]
`;

Deno.test("plan: ids, kinds, inputs by role, upstream before downstream", () => {
  const plan = planInstances(parseConfig(TEXT, "t.yaml", { runs: TRAIN_RUNS }));
  assertEquals(plan.map((s) => s.id), [
    "dataset/a",
    "train/a/sam-rho0.01",
    "train/a/sam-rho0.02",
    "train/a/gd",
    "spectral/a/sam-rho0.01",
    "spectral/a/sam-rho0.02",
    "spectral/a/gd",
    "tabulate/a",
    "dataset/b",
    "train/b/gd",
    "tabulate/b",
  ]);
  const byId = new Map(plan.map((s) => [s.id, s]));
  assertEquals(byId.get("train/a/gd")!.inputs, { dataset: ["dataset/a"] });
  assertEquals(byId.get("spectral/a/sam-rho0.02")!.inputs, {
    train: ["train/a/sam-rho0.02"],
    dataset: ["dataset/a"],
  });
  assertEquals(byId.get("tabulate/a")!.inputs, {
    dataset: ["dataset/a"],
    train: ["train/a/sam-rho0.01", "train/a/sam-rho0.02", "train/a/gd"],
    spectral: ["spectral/a/sam-rho0.01", "spectral/a/sam-rho0.02", "spectral/a/gd"],
  });
  assertEquals(byId.get("tabulate/b")!.inputs, { dataset: ["dataset/b"], train: ["train/b/gd"] });
  const seen = new Set<string>();
  for (const s of plan) {
    for (const id of Object.values(s.inputs).flat()) assert(seen.has(id), `${s.id} before ${id}`);
    seen.add(s.id);
  }
});

Deno.test("plan: params of each kind", () => {
  const byId = new Map(
    planInstances(parseConfig(TEXT, "t.yaml", { runs: TRAIN_RUNS })).map((s) => [s.id, s]),
  );
  assertEquals(byId.get("dataset/a")!.params, { kind: "toy", n: 2 });
  assertEquals(byId.get("train/a/sam-rho0.02")!.params, {
    name: "sam",
    optimizer: "sam",
    lr: 0.1,
    rho: 0.02,
    steps: 10,
    backend: "f64",
    experiment: "a",
  });
  assertEquals(byId.get("spectral/a/sam-rho0.02")!.params, {
    k: 2,
    experiment: "a",
    rho: 0.02,
  });
  assertEquals(byId.get("spectral/a/gd")!.params, { k: 2, experiment: "a" });
  assertEquals(byId.get("tabulate/b")!.params, {
    experiment: "b",
    tables: ["trajectory"],
    claims: [{ id: "c1" }],
  });
});

Deno.test("matchesPattern: globs on whole ids or /-bounded prefixes", () => {
  const m = (id: string, p: string) => matchesPattern(id, p);
  assert(m("train/a/sam-rho0.01", "train/a/sam-rho0.01"));
  assert(m("train/a/sam-rho0.01", "train/a"));
  assert(m("train/a/sam-rho0.01", "*/a"));
  assert(m("train/a/sam-rho0.01", "train/*/sam-*"));
  assert(m("train/a/sam-rho0.01", "train/a/sam-rho0.0?"));
  assert(!m("train/a/sam-rho0.01", "train/a/sam"));
  assert(!m("train/ab/gd", "train/a"));
  assert(!m("train/a/sam-rho0x01", "train/a/sam-rho0.01"));
});

Deno.test("withUpstream adds exactly the transitive inputs", () => {
  const plan = planInstances(parseConfig(TEXT, "t.yaml", { runs: TRAIN_RUNS }));
  assertEquals(withUpstream(plan, new Set(["spectral/a/gd"])).map((s) => s.id), [
    "dataset/a",
    "train/a/gd",
    "spectral/a/gd",
  ]);
  assertEquals(withUpstream(plan, new Set(["tabulate/b"])).map((s) => s.id), [
    "dataset/b",
    "train/b/gd",
    "tabulate/b",
  ]);
});

Deno.test("withUpstream and withGroups take a group's every member, and only them", () => {
  const text = TEXT.replace("rho: [0.01, 0.02] }", "rho: [0.01, 0.02], runs_axis: true }");
  const plan = planInstances(parseConfig(text, "t.yaml", { runs: TRAIN_RUNS }));
  assertEquals(withUpstream(plan, new Set(["spectral/a/sam-rho0.02"])).map((s) => s.id), [
    "dataset/a",
    "train/a/sam-rho0.01",
    "train/a/sam-rho0.02",
    "spectral/a/sam-rho0.02",
  ]);
  assertEquals([...withGroups(plan, new Set(["train/a/sam-rho0.01", "train/a/gd"]))].sort(), [
    "train/a/gd",
    "train/a/sam-rho0.01",
    "train/a/sam-rho0.02",
  ]);
});

Deno.test("plan with report: one report instance after every tabulate, reading all of them", () => {
  const plan = planInstances(parseConfig(TEXT, "t.yaml", { runs: TRAIN_RUNS }), { report: true });
  const report = plan.at(-1)!;
  assertEquals(report.id, "report/t");
  assertEquals(report.inputs, { tabulate: ["tabulate/a", "tabulate/b"] });
  assertEquals(
    (report.params.experiments as { id: string }[]).map((e) => e.id),
    ["a", "b"],
  );
  assertEquals(
    planInstances(parseConfig(TEXT, "t.yaml", { runs: TRAIN_RUNS })).some((s) =>
      s.kind === "report"
    ),
    false,
  );
});

Deno.test("plan: instances carry the file:line of the block their params come from", () => {
  const byId = new Map(
    planInstances(parseConfig(TEXT, "t.yaml", { runs: TRAIN_RUNS })).map((s) => [s.id, s]),
  );
  assertEquals(byId.get("dataset/a")!.origin, "t.yaml:4: experiments[0].dataset");
  assertEquals(byId.get("train/a/sam-rho0.02")!.origin, "t.yaml:8: experiments[0].train.runs[0]");
  assertEquals(byId.get("train/a/gd")!.origin, "t.yaml:9: experiments[0].train.runs[1]");
  assertEquals(byId.get("spectral/a/gd")!.origin, "t.yaml:10: experiments[0].spectral");
});
