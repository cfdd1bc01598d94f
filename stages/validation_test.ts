/**
 * Mistakes in the values of an experiment file that only the stage kinds can judge (data set
 * params, optimizer hyper-parameters, x0, the spectral block) are reported before anything runs,
 * as one line naming file, line and key, with exit code 2.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { type ConfigRun, runConfig } from "./testing/run_config.ts";

const GOOD = `name: v
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 100, lr: 0.05, x0: [1, 1, 0.3, 0.3] }
      runs:
        - { name: sam, optimizer: sam, rho: 0.01 }
        - { name: mb, optimizer: minibatch-sam, rho: 0.01, batch: 1 }
    spectral: { checkpoints: [0, 100], k: 2 }
    tables: [trajectory]
`;

/** Runs `status` on a config text; returns exit code and standard error. */
async function status(text: string): Promise<ConfigRun> {
  const dir = await Deno.makeTempDir();
  try {
    return await runConfig(dir, text, "status");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a valid file passes validation", async () => {
  assertEquals(await status(GOOD), { code: 0, err: "" });
});

const cases: [string, string, string][] = [
  [
    "optimizer: sam, rho",
    "optimizer: adam, rho",
    'DIR/x.yaml:9: experiments[0].train.runs[0]: optimizer must be one of gd, sgd, sam, usam, 1sam, minibatch-sam, asc-exact, max, avg, label-noise-sgd (got "adam")',
  ],
  [
    "lr: 0.05, x0",
    "lr: 0.05, backend: tpu, x0",
    'DIR/x.yaml:9: experiments[0].train.runs[0]: backend must be one of auto, f64, cpu, wasm, webgpu (got "tpu")',
  ],
  [
    "family: paper",
    "family: papr",
    'DIR/x.yaml:5: experiments[0].dataset: toy4d: family must be one of paper, shifted (got "papr")',
  ],
  [
    "batch: 1 }",
    "batch: 3 }",
    "DIR/x.yaml:10: experiments[0].train.runs[1]: optimizer minibatch-sam: batch must be an integer in [1, M = 2] (got 3)",
  ],
  [
    "rho: 0.01 }\n        - { name: mb",
    "rho: 0.01, sigma: 0.1 }\n        - { name: mb",
    "DIR/x.yaml:9: experiments[0].train.runs[0]: optimizer sam: sigma is only used by label-noise-sgd",
  ],
  [
    "x0: [1, 1, 0.3, 0.3]",
    "x0: [1, 1, 0.3]",
    "DIR/x.yaml:9: experiments[0].train.runs[0]: toy4d: x0 must be a list of 4 finite numbers (got [1,1,0.3])",
  ],
  [
    "checkpoints: [0, 100]",
    "checkpoints: [0, 99]",
    "DIR/x.yaml:11: experiments[0].spectral: checkpoints: no checkpoint at step(s) 99; logged steps are 0, 1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 79, 100",
  ],
  [
    "k: 2 }",
    "k: 0 }",
    "DIR/x.yaml:11: experiments[0].spectral: k must be an integer in [1, 1000] (got 0)",
  ],
  [
    "k: 2 }",
    "kk: 2 }",
    "DIR/x.yaml:11: experiments[0].spectral: unknown key kk (valid: checkpoints, k, m, rho, trace_probes, exact_trace_up_to, at_manifold, per_sample, mc_samples, seed, backend, manifold)",
  ],
];

for (const [from, to, message] of cases) {
  Deno.test(`validation: ${to.split("\n")[0]}`, async () => {
    assertEquals(await status(GOOD.replace(from, to)), { code: 2, err: `error: ${message}\n` });
  });
}

Deno.test("a sweep that cannot matter is warned about before the run, once per kind of note", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const text = GOOD.replace(
      "- { name: sam, optimizer: sam, rho: 0.01 }",
      "- { name: sam, optimizer: sam, rho: 0.01, seed: [0, 1, 2] }",
    ).replace("batch: 1 }", "batch: 2, seed: 1 }");
    const r = await runConfig(dir, text, "status");
    assertEquals(r.code, 0, r.err);
    const warnings = r.err.split("\n").filter((l) => l.startsWith("warning: "));
    assertEquals(warnings, [
      "warning: sam from a given x0 draws nothing at random: its seed cannot matter (train/toy/sam-seed0 and 2 more)",
      "warning: minibatch-sam from a given x0 draws nothing at random: its seed cannot matter (train/toy/mb)",
      "warning: minibatch-sam with batch = M = 2 is full-batch (GD's or SAM's step) (train/toy/mb)",
    ]);
    const quiet = await runConfig(dir, GOOD, "status");
    assert(!quiet.err.includes("warning: "), quiet.err);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const DEEP = `name: v
backend: f64
experiments:
  - id: deep
    dataset: { kind: mlp, source: teacher, depth: 3, hidden: 8, n: 4, d: 3 }
    train:
      defaults: { steps: 10, lr: 0.05 }
      runs:
        - { name: sam, optimizer: sam, rho: 0.01 }
    spectral: { checkpoints: [0, 10], k: 2 }
    tables: [trajectory]
`;

Deno.test("an mlp data set of depth 3 passes validation; a bad depth is one line", async () => {
  assertEquals(await status(DEEP), { code: 0, err: "" });
  assertEquals(await status(DEEP.replace("depth: 3", "depth: 4")), {
    code: 2,
    err: "error: DIR/x.yaml:5: experiments[0].dataset: mlp: depth must be 2 or 3 (got 4)\n",
  });
});
