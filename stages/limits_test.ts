/**
 * Bounds and gaps of the stage kinds' validation: the spectral block against the problem's
 * dimension D and its cost limits, unknown table names, data set sizes. Each is one line naming
 * file, line and key, exit code 2, before anything runs.
 */
import { assertEquals } from "../testing/assert.ts";
import { runConfig } from "./testing/run_config.ts";

const GOOD = `name: v
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 100, lr: 0.05, x0: [1, 1, 0.3, 0.3] }
      runs:
        - { name: sam, optimizer: sam, rho: 0.01 }
    spectral: { checkpoints: [0, 100], k: 2 }
    tables: [trajectory, spectra]
`;

const cases: [string, string, string][] = [
  [
    "k: 2 }",
    "k: 2, m: 5 }",
    "DIR/x.yaml:10: experiments[0].spectral: m must be at most D = 4, the problem's dimension (got 5)",
  ],
  [
    "k: 2 }",
    "k: 6 }",
    "DIR/x.yaml:10: experiments[0].spectral: k must be at most D = 4, the problem's dimension (got 6)",
  ],
  [
    "k: 2 }",
    "k: 2, mc_samples: 1e12 }",
    "DIR/x.yaml:10: experiments[0].spectral: mc_samples must be an integer in [1, 1000000] (got 1000000000000)",
  ],
  [
    "k: 2 }",
    "k: 2, trace_probes: 1e9 }",
    "DIR/x.yaml:10: experiments[0].spectral: trace_probes must be an integer in [1, 100000] (got 1000000000)",
  ],
  [
    "[trajectory, spectra]",
    "[trajectory, spectrum]",
    'DIR/x.yaml:11: experiments[0].tables: tables: unknown table "spectrum" (valid: trajectory, spectra, summary, checkpoints)',
  ],
  [
    "    spectral: { checkpoints: [0, 100], k: 2 }\n",
    "",
    "DIR/x.yaml:10: experiments[0].tables: tables: spectra needs a spectral block in the experiment",
  ],
  [
    "{ kind: toy4d, family: paper }",
    "{ kind: diagnet, n: 1e12, d: 4, k: 1 }",
    "DIR/x.yaml:5: experiments[0].dataset: n must be at most 1000000 (got 1000000000000)",
  ],
  [
    "{ kind: toy4d, family: paper }",
    "{ kind: diagnet, n: 100000, d: 100000, k: 1 }",
    "DIR/x.yaml:5: experiments[0].dataset: (n + nTest) × d must be at most 50000000 numbers (got 10000000000)",
  ],
];

for (const [from, to, message] of cases) {
  Deno.test(`limits: ${to.split("\n")[0] || "no spectral block"}`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      assertEquals(await runConfig(dir, GOOD.replace(from, to), "status"), {
        code: 2,
        err: `error: ${message}\n`,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
