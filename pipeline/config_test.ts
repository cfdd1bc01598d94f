import { assert, assertEquals } from "../testing/assert.ts";
import { ConfigError, type GroupSummary, groupSummary, loadConfig, parseConfig } from "./config.ts";
import { canonicalJson, sha256Hex } from "./hash.ts";
import { TRAIN_RUNS } from "../stages/run_fields.ts";

const BASE = `name: quick
backend: auto
experiments:
  - id: fig1-toy
    description: free text
    dataset: { kind: toy4d, family: paper, seed: 0 }
    train:
      defaults: { steps: 100, lr: 0.05, x0: [1, 1, 0.3, 0.3], backend: f64 }
      runs:
        - { name: sam, optimizer: sam, rho: [0.01, 0.02], seed: [0, 1] }
        - { name: gd, optimizer: gd, rho: 0 }
    spectral: { checkpoints: all, k: 2 }
    tables: [trajectory, summary]
`;

/** The message of the ConfigError that parsing `text` raises. */
function errorOf(text: string, file = "experiments/x.yaml"): string {
  try {
    parseConfig(text, file, { runs: TRAIN_RUNS });
  } catch (e) {
    assert(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.message;
  }
  throw new Error(`parsed without error:\n${text}`);
}

Deno.test("a valid file expands sweeps in field order, last field fastest, with defaults applied", () => {
  const set = parseConfig(BASE, "q.yaml", { runs: TRAIN_RUNS });
  assertEquals(set.name, "quick");
  const exp = set.experiments[0];
  assertEquals(exp.runs.map((r) => r.label), [
    "sam-rho0.01-seed0",
    "sam-rho0.01-seed1",
    "sam-rho0.02-seed0",
    "sam-rho0.02-seed1",
    "gd",
  ]);
  assertEquals(exp.runs[1].params, {
    name: "sam",
    optimizer: "sam",
    lr: 0.05,
    rho: 0.01,
    steps: 100,
    seed: 1,
    x0: [1, 1, 0.3, 0.3],
    backend: "f64",
  });
  assertEquals(exp.dataset, { kind: "toy4d", family: "paper", seed: 0 });
  assertEquals(exp.spectral, { checkpoints: "all", k: 2 });
  assertEquals(exp.tables, ["trajectory", "summary"]);
});

Deno.test("a list of lists sweeps a vector field; a plain list is one vector", () => {
  const text = BASE.replace("rho: 0 }", "rho: 0, x0: [[1, 2], [-3, 0.5]] }");
  const runs = parseConfig(text, "q.yaml", { runs: TRAIN_RUNS }).experiments[0].runs;
  assertEquals(runs.slice(4).map((r) => [r.label, r.params.x0]), [
    ["gd-x0_1_2", [1, 2]],
    ["gd-x0_-3_0.5", [-3, 0.5]],
  ]);
});

Deno.test("backend: run, then defaults, then the file's default; --backend overrides all", () => {
  const text = BASE.replace(", backend: f64 }", " }").replace("rho: 0 }", "rho: 0, backend: wasm }")
    .replace("k: 2 }", "k: 2, backend: cpu }");
  const set = parseConfig(text, "q.yaml", { runs: TRAIN_RUNS });
  assertEquals(set.experiments[0].runs.map((r) => r.params.backend), [
    "auto",
    "auto",
    "auto",
    "auto",
    "wasm",
  ]);
  const forced = parseConfig(text, "q.yaml", { runs: TRAIN_RUNS, backend: "f64" });
  assertEquals(forced.experiments[0].runs.map((r) => r.params.backend), [
    "f64",
    "f64",
    "f64",
    "f64",
    "f64",
  ]);
  assertEquals(forced.experiments[0].spectral?.backend, "f64");
});

Deno.test("validation errors name file:line and the key path", () => {
  const cases: [string, string][] = [
    [
      BASE.replace("rho: 0 }", "rho: -0.1 }"),
      "experiments/x.yaml:11: experiments[0].train.runs[1].rho must be >= 0 (got -0.1)",
    ],
    [
      BASE.replace("rho: [0.01, 0.02]", "rho: [0.01,\n            -0.02]"),
      "experiments/x.yaml:11: experiments[0].train.runs[0].rho[1] must be >= 0 (got -0.02)",
    ],
    [
      BASE.replace("rho: 0 }", "rhoo: 0 }"),
      "experiments/x.yaml:11: experiments[0].train.runs[1].rhoo is not a valid key (valid: name, optimizer, lr, rho, steps, seed, batch, sigma, inner_steps, x0, init_scale, backend, log_per_decade, window, runs_axis)",
    ],
    [
      BASE.replace("optimizer: gd", "optimizer: Adam!"),
      'experiments/x.yaml:11: experiments[0].train.runs[1].optimizer must be a name (a-z, 0-9, -) (got "Adam!")',
    ],
    [
      BASE.replace("lr: 0.05", "lr: 0"),
      "experiments/x.yaml:8: experiments[0].train.defaults.lr must be > 0 (got 0)",
    ],
    [
      BASE.replace("steps: 100", "steps: 1.5"),
      "experiments/x.yaml:8: experiments[0].train.defaults.steps must be an integer (got 1.5)",
    ],
    [
      BASE.replace("steps: 100, ", ""),
      "experiments/x.yaml:10: experiments[0].train.runs[0].steps is required (in the run or in experiments[0].train.defaults)",
    ],
    [
      BASE.replace("x0: [1, 1, 0.3, 0.3]", 'x0: [1, "a"]'),
      'experiments/x.yaml:8: experiments[0].train.defaults.x0 must be a non-empty list of numbers (got [1,"a"])',
    ],
    [
      BASE.replace("name: gd", "name: GD"),
      'experiments/x.yaml:11: experiments[0].train.runs[1].name must match ^[a-z0-9-]+$ (got "GD")',
    ],
    [
      BASE.replace("{ name: gd, optimizer: gd, rho: 0 }", "{ optimizer: gd, rho: 0 }"),
      "experiments/x.yaml:11: experiments[0].train.runs[1].name is required",
    ],
    [
      BASE.replace(
        "name: gd, optimizer: gd, rho: 0",
        "name: sam, optimizer: sam, rho: [0.01], seed: [1, 2]",
      ),
      'experiments/x.yaml:11: experiments[0].train.runs[1] gives run "sam-rho0.01-seed1" again (already from experiments[0].train.runs[0])',
    ],
    [
      BASE.replace("    tables", "    table"),
      "experiments/x.yaml:13: experiments[0].table is not a valid key (valid: id, description, dataset, train, spectral, tables, claims)",
    ],
    [
      BASE.replace("backend: auto", "backend: G P U"),
      'experiments/x.yaml:2: backend must be a name (a-z, 0-9, -) (got "G P U")',
    ],
    [
      BASE.replace("family: paper", "family: .inf"),
      "experiments/x.yaml:6: experiments[0].dataset.family must be a finite number, string, boolean or null (got Infinity)",
    ],
    [
      BASE.replace("kind: toy4d, ", ""),
      "experiments/x.yaml:6: experiments[0].dataset.kind is required",
    ],
    [
      BASE.replace("tables: [trajectory, summary]", "tables: []"),
      "experiments/x.yaml:13: experiments[0].tables must be a non-empty list of table names (got a list)",
    ],
    [
      BASE + BASE.slice(BASE.indexOf("  - id")),
      'experiments/x.yaml:14: experiments[1].id "fig1-toy" duplicates experiments[0].id',
    ],
    [
      BASE.replace("seed: [0, 1]", "seed: []"),
      "experiments/x.yaml:10: experiments[0].train.runs[0].seed must not be an empty list",
    ],
    [
      BASE.replace("name: quick", "name: quick\nname: again"),
      "experiments/x.yaml:2: invalid YAML: Map keys must be unique",
    ],
    [BASE.replace("name: quick\n", ""), "experiments/x.yaml:1: name is required"],
    ["", "experiments/x.yaml:1: the file is empty (expected name, backend, experiments)"],
    [
      BASE.replace("k: 2 }", "k: 2 }\n    spectral2: 1"),
      "experiments/x.yaml:13: experiments[0].spectral2 is not a valid key (valid: id, description, dataset, train, spectral, tables, claims)",
    ],
  ];
  for (const [text, message] of cases) assertEquals(errorOf(text), message);
});

Deno.test("--backend is checked too (as a name: which backends exist is the stages' to say)", () => {
  let msg = "";
  try {
    parseConfig(BASE, "q.yaml", { runs: TRAIN_RUNS, backend: "TPU" });
  } catch (e) {
    msg = (e as Error).message;
  }
  assertEquals(msg, '--backend must be a name (a-z, 0-9, -) (got "TPU")');
});

Deno.test("limits: oversized numbers, alias bombs, huge sweeps and files fail in one line naming file, line, key and limit", async () => {
  const steps = (v: string) => errorOf(BASE.replace("steps: 100", `steps: ${v}`));
  const at = "experiments/x.yaml:8: experiments[0].train.defaults.steps must be an integer in";
  assertEquals(steps("1e12"), `${at} [1, 1000000000] (got 1000000000000)`);
  assertEquals(steps("1e308"), `${at} [1, 1000000000] (got 1e+308)`);
  assertEquals(
    steps("123456789012345678901234567890"),
    `${at} [1, 1000000000] (got 1.2345678901234568e+29)`,
  );
  assertEquals(
    errorOf(BASE.replace("steps: 100", "steps: 100, log_per_decade: 1e9")),
    "experiments/x.yaml:8: experiments[0].train.defaults.log_per_decade must be an integer in [1, 1000] (got 1000000000)",
  );
  assertEquals(
    errorOf(BASE.replace("seed: [0, 1] }", "seed: 1e300 }")),
    "experiments/x.yaml:10: experiments[0].train.runs[0].seed must be an integer of at most 9007199254740991 (got 1e+300)",
  );
  // A 1 KB alias bomb: 12 levels of 10 aliases each would expand to 10¹² nodes.
  let bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (let i = 1; i < 12; i++) {
    bomb += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
  }
  assert(bomb.length < 1024, `${bomb.length}`);
  assertEquals(
    errorOf(bomb),
    "experiments/x.yaml:2: a1[0]: YAML aliases expand too far (over maxAliasCount 1000)",
  );
  // 1000 × 1000 swept values: 10⁶ runs, counted before they are expanded.
  const values = Array.from({ length: 1000 }, (_, i) => i).join(", ");
  assertEquals(
    errorOf(BASE.replace("rho: [0.01, 0.02], seed: [0, 1]", `rho: [${values}], seed: [${values}]`)),
    "experiments/x.yaml:10: experiments[0].train.runs[0] expands to 1000000 runs, which takes the file past the limit of 100000 stage instances",
  );
  const dir = await Deno.makeTempDir();
  try {
    const big = `${dir}/big.yaml`;
    await Deno.writeTextFile(big, BASE + `# ${"x".repeat(8 << 20)}\n`);
    const e = await loadConfig(big, { runs: TRAIN_RUNS }).catch((e) => e);
    assert(e instanceof ConfigError);
    assertEquals(
      e.message,
      `${big}:1: the file has ${
        (await Deno.stat(big)).size
      } bytes, over the limit of 1048576 bytes for an experiment file`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("top-level mistakes name the top level and never echo raw or binary content", async () => {
  assertEquals(
    errorOf("just some text that is not a mapping at all, and goes on for a while longer still"),
    "experiments/x.yaml:1: the top level must be a mapping (got a long string)",
  );
  assertEquals(
    errorOf("- 1\n- 2\n"),
    "experiments/x.yaml:1: the top level must be a mapping (got a list)",
  );
  assertEquals(
    errorOf("name: t\nexperiments: [1]\n\u00e9\u0001x: 3\n"),
    "experiments/x.yaml:3: \\u00e9\\u0001x is not a valid key (valid: name, description, backend, max_total_steps, experiments)",
  );
  assertEquals(
    errorOf("a\u0000b: 1\n"),
    "experiments/x.yaml:1: the file holds a NUL byte: not YAML text",
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/bin.yaml`, new Uint8Array([0x6e, 0x3a, 0xff, 0xfe, 0x80, 0x0a]));
    const e = await loadConfig(`${dir}/bin.yaml`, { runs: TRAIN_RUNS }).catch((e) => e);
    assertEquals(
      e.message,
      `${dir}/bin.yaml:1: the file is not UTF-8 text (an experiment file is YAML)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a grouping field groups an entry's runs in consecutive groups of at most LIMITS.groupSize, each summarized by its own values", async () => {
  const seeds = Array.from({ length: 130 }, (_, i) => i).join(", ");
  const text = BASE.replace(
    "- { name: gd, optimizer: gd, rho: 0 }",
    `- { name: gd, optimizer: gd, rho: 0 }\n        - { name: axis, optimizer: 1sam, rho: [0.1], seed: [${seeds}], runs_axis: true }`,
  );
  // The generic default: a schema that chooses no size.
  const generic = { ...TRAIN_RUNS, groupSize: undefined };
  const runs = parseConfig(text, "q.yaml", { runs: generic }).experiments[0].runs;
  const axis = runs.filter((r) => r.label.startsWith("axis-"));
  assertEquals(axis.length, 130);
  const groups = [...new Set(axis.map((r) => r.group))];
  assertEquals(groups, [0, 1, 2].map((k) => `experiments[0].train.runs[2]#${k}`));
  const summaries = axis.map((r) => r.params.runs_axis as unknown as GroupSummary);
  // Members of a group share one summary object; its digest is of the group's values in order.
  assertEquals(new Set(summaries).size, 3);
  assertEquals(summaries.map((g) => g.runs).filter((n, i, a) => a.indexOf(n) === i), [64, 2]);
  const last = { rho: [0.1, 0.1], seed: [128, 129] };
  assertEquals(summaries[129], {
    fields: ["rho", "seed"],
    runs: 2,
    values_sha256: await sha256Hex(canonicalJson(last)),
  });
  assertEquals(
    summaries[129],
    groupSummary(["rho", "seed"], [{ rho: 0.1, seed: 128 }, { rho: 0.1, seed: 129 }]),
  );
  const swapped = [{ rho: 0.1, seed: 129 }, { rho: 0.1, seed: 128 }];
  assert(summaries[129].values_sha256 !== groupSummary(["rho", "seed"], swapped).values_sha256);
  // A schema's size for `true` is used (clamped to 1…maxGroupSize), an explicit size wins over it.
  const sized = (size: number, text2 = text) =>
    parseConfig(text2, "q.yaml", { runs: { ...TRAIN_RUNS, groupSize: () => size } })
      .experiments[0].runs.filter((r) => r.label.startsWith("axis-"))
      .map((r) => (r.params.runs_axis as unknown as GroupSummary).runs);
  assertEquals(new Set(sized(50)), new Set([50, 30]));
  assertEquals(new Set(sized(0)), new Set([1]));
  assertEquals(new Set(sized(1e9)), new Set([130]));
  assertEquals(
    new Set(sized(50, text.replace("runs_axis: true", "runs_axis: 100"))),
    new Set([100, 30]),
  );
  // Runs of entries without the field carry neither the field nor a group.
  const sam = runs.find((r) => r.label === "sam-rho0.01-seed0")!;
  assertEquals([sam.group, "runs_axis" in sam.params], [undefined, false]);
});

Deno.test("a grouping field set to a size groups that many runs; a bad size is one clear line", () => {
  const seeds = Array.from({ length: 130 }, (_, i) => i).join(", ");
  const entry = (axis: string) =>
    BASE.replace(
      "- { name: gd, optimizer: gd, rho: 0 }",
      `- { name: gd, optimizer: gd, rho: 0 }\n        - { name: axis, optimizer: 1sam, seed: [${seeds}], runs_axis: ${axis} }`,
    );
  const runs = parseConfig(entry("100"), "q.yaml", { runs: TRAIN_RUNS }).experiments[0].runs;
  const axis = runs.filter((r) => r.label.startsWith("axis-"));
  const sizes = new Map<string, number>();
  for (const r of axis) sizes.set(r.group!, (sizes.get(r.group!) ?? 0) + 1);
  assertEquals([...sizes.values()], [100, 30]);
  assertEquals((axis[0].params.runs_axis as unknown as GroupSummary).runs, 100);
  for (const bad of ["0", "2.5", "10001", "-3", "yes"]) {
    try {
      parseConfig(entry(bad), "q.yaml", { runs: TRAIN_RUNS });
      throw new Error(`runs_axis: ${bad} was accepted`);
    } catch (e) {
      assert(e instanceof ConfigError, String(e));
      assert(
        e.message.includes("runs_axis must be true, false or a group size (an integer 1…10000)"),
        e.message,
      );
    }
  }
});

Deno.test("a range sweeps the integers it names, like the list; a bad range is one clear line", () => {
  const entry = (seed: string) =>
    BASE.replace(
      "- { name: gd, optimizer: gd, rho: 0 }",
      `- { name: gd, optimizer: gd, rho: 0 }\n        - { name: r, optimizer: 1sam, seed: ${seed} }`,
    );
  const runsOf = (seed: string) =>
    parseConfig(entry(seed), "q.yaml", { runs: TRAIN_RUNS }).experiments[0].runs
      .filter((r) => r.label.startsWith("r-"));
  assertEquals(runsOf("{ range: [3, 7] }"), runsOf("[3, 4, 5, 6]"));
  assertEquals(runsOf("{ range: [-4, 7, 5] }"), runsOf("[-4, 1, 6]"));
  assertEquals(runsOf("{ range: [10, 11] }").map((r) => r.label), ["r-seed10"]);
  const bad: [string, string][] = [
    ["{ range: [0] }", "seed.range must be [start, stop] or [start, stop, step] with integers"],
    ["{ range: [0, 2.5] }", "with integers (got [0,2.5])"],
    ["{ range: [0, 5, 0] }", "seed.range: step must be >= 1 (got 0)"],
    ["{ range: [5, 5] }", "seed.range is empty: stop 5 must be above start 5"],
    ["{ range: [0, 1000000000] }", "seed.range has 1000000000 values, past the limit"],
    ["{ range: [0, 2], step: 1 }", "seed.step is not a valid key (valid: range)"],
    ["{ from: 0 }", "seed.from is not a valid key (valid: range)"],
  ];
  for (const [seed, want] of bad) {
    try {
      parseConfig(entry(seed), "q.yaml", { runs: TRAIN_RUNS });
      throw new Error(`seed: ${seed} was accepted`);
    } catch (e) {
      assert(e instanceof ConfigError, String(e));
      assert(e.message.includes(want) && /^q\.yaml:\d+: /.test(e.message), e.message);
    }
  }
  // A field without ranges keeps its own meaning for a mapping: lr must be a number.
  const lr = BASE.replace(
    "optimizer: gd, rho: 0 }",
    "optimizer: gd, rho: 0, lr: { range: [1, 3] } }",
  );
  try {
    parseConfig(lr, "q.yaml", { runs: TRAIN_RUNS });
    throw new Error("lr: { range } was accepted");
  } catch (e) {
    assert(e instanceof ConfigError && e.message.includes("lr must be"), String(e));
  }
});
