/**
 * A run that diverges is recorded up to the divergence, named in the summary with its step, η and
 * ρ, and the rest of the pipeline (spectra of the checkpoints it reached, tables) still completes.
 */
import * as aq from "arquero";
import { assert, assertEquals } from "../testing/assert.ts";
import { runConfig } from "./testing/run_config.ts";

const CONFIG = `name: d
backend: f64
experiments:
  - id: usam
    dataset: { kind: quadratic, eigenvalues: [4, 1], rotate: false }
    train:
      defaults: { steps: 1000, lr: 0.4, rho: 0.1, x0: [1, 1] }
      runs:
        - { name: stable, optimizer: usam, lr: 0.3 }
        - { name: unstable, optimizer: usam }
    spectral: { checkpoints: [0, 100, 1000], k: 1 }
    tables: [trajectory, spectra, summary]
`;

Deno.test("a diverged run is reported with step, η and ρ; its reached checkpoints are analysed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code } = await runConfig(dir, CONFIG);
    assertEquals(code, 0);
    const summary = aq.fromCSV(await Deno.readTextFile(`${dir}/r/usam/summary.csv`))
      .objects() as Record<
        string,
        unknown
      >[];
    const unstable = summary.find((r) => r.run === "unstable")!;
    assert(
      /^diverged at step \d+ \(lr = 0\.4, rho = 0\.1\)/.test(String(unstable.diverged)),
      String(unstable.diverged),
    );
    assertEquals(summary.find((r) => r.run === "stable")!.diverged, null);
    const spectra = aq.fromCSV(await Deno.readTextFile(`${dir}/r/usam/spectra.csv`))
      .filter((d: { metric: string }) => d.metric === "lambda_1")
      .objects() as { run: string; step: number; value: number }[];
    assertEquals(spectra.filter((r) => r.run === "stable").map((r) => r.step), [0, 100, 1000]);
    assertEquals(spectra.filter((r) => r.run === "unstable").map((r) => r.step), [0]);
    assert(spectra.every((r) => Math.abs(r.value - 4) < 1e-9), "λ1 of diag(4, 1) is 4");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run that diverges before every requested checkpoint leaves an empty spectra table, and the tables still complete", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = CONFIG.replace("checkpoints: [0, 100, 1000]", "checkpoints: [100, 1000]");
    const { code, err } = await runConfig(dir, config);
    assertEquals(code, 0, err);
    const summary = aq.fromCSV(await Deno.readTextFile(`${dir}/r/usam/summary.csv`))
      .objects() as Record<string, unknown>[];
    const unstable = summary.find((r) => r.run === "unstable")!;
    assert(String(unstable.diverged).startsWith("diverged at step"), String(unstable.diverged));
    assertEquals(unstable.spectral_lambda_1, null);
    assertEquals(summary.find((r) => r.run === "stable")!.spectral_step, 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
