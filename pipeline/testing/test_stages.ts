/**
 * Small but real stage kinds for the pipeline tests: a "dataset" of numbers derived from its
 * params, a "train" that iterates x ← x − lr·(x − target) + rho (sleeping `delay_ms` per step so a
 * test can kill it mid-stage, failing when the dataset's `fail` names the run), a "spectral" summary of the trajectory, and a "tabulate" writing the
 * requested CSV tables. Their `sources` are files under the test's working directory, so a test can
 * change "code" by editing them.
 * @module
 */
import type { InputArtifact, StageKind, StageRegistry } from "../stage.ts";

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (x: number) => x.toPrecision(12);

function num(p: Readonly<Record<string, unknown>>, k: string, dflt: number): number {
  const v = p[k];
  return typeof v === "number" ? v : dflt;
}

/** The test stage kinds; sources are `src/<kind>.txt` relative to the working directory. */
export const testStageKinds: StageRegistry = {
  dataset: {
    kind: "dataset",
    version: 1,
    sources: ["src/dataset.txt"],
    async run(ctx) {
      const n = num(ctx.params, "n", 3);
      const seed = num(ctx.params, "seed", 0);
      const targets = Array.from({ length: n }, (_, i) => (seed + 1) * (i + 1) * 0.5);
      await Deno.writeTextFile(`${ctx.outDir}/data.json`, JSON.stringify({ targets }) + "\n");
      ctx.progress(1, 1);
    },
  },
  train: {
    kind: "train",
    version: 1,
    sources: ["src/train.txt"],
    runtime(params) {
      return Promise.resolve({ backend: String(params.backend) });
    },
    async run(ctx) {
      const ds = ctx.inputs.dataset[0];
      const { targets } = await readJson(`${ds.dir}/data.json`) as { targets: number[] };
      if (ds.params.fail === ctx.params.name) throw new Error(`asked to fail (${ctx.id})`);
      const delay = num(ds.params, "delay_ms", 0);
      const steps = num(ctx.params, "steps", 10), lr = num(ctx.params, "lr", 0.1);
      const rho = num(ctx.params, "rho", 0);
      const x = targets.map(() => 0);
      const rows = ["step,loss"];
      for (let s = 1; s <= steps; s++) {
        for (let i = 0; i < x.length; i++) x[i] -= lr * (x[i] - targets[i]) - rho;
        rows.push(`${s},${fmt(x.reduce((a, xi, i) => a + (xi - targets[i]) ** 2, 0))}`);
        ctx.progress(s, steps);
        if (delay > 0) await sleep(delay);
      }
      await Deno.mkdir(`${ctx.outDir}/checkpoints`);
      await Deno.writeTextFile(`${ctx.outDir}/checkpoints/last.json`, JSON.stringify(x) + "\n");
      await Deno.writeTextFile(`${ctx.outDir}/trajectory.csv`, rows.join("\n") + "\n");
    },
  },
  spectral: {
    kind: "spectral",
    version: 1,
    sources: ["src/spectral.txt"],
    async run(ctx) {
      const tr = ctx.inputs.train[0];
      const x = await readJson(`${tr.dir}/checkpoints/last.json`) as number[];
      const k = num(ctx.params, "k", 1);
      const top = [...x].sort((a, b) => b - a).slice(0, k);
      await Deno.writeTextFile(`${ctx.outDir}/spectra.json`, JSON.stringify({ top }) + "\n");
    },
  },
  tabulate: {
    kind: "tabulate",
    version: 1,
    sources: ["src/tabulate.txt"],
    async run(ctx) {
      const label = (a: InputArtifact) => a.id.split("/").slice(2).join("/");
      for (const table of ctx.params.tables as string[]) {
        const lines: string[] = [];
        if (table === "trajectory") {
          lines.push("run,step,loss");
          for (const t of ctx.inputs.train) {
            const rows = (await Deno.readTextFile(`${t.dir}/trajectory.csv`)).trim().split("\n")
              .slice(1);
            for (const r of rows) lines.push(`${label(t)},${r}`);
          }
        } else if (table === "spectra") {
          lines.push("run,rank,value");
          for (const s of ctx.inputs.spectral ?? []) {
            const { top } = await readJson(`${s.dir}/spectra.json`) as { top: number[] };
            top.forEach((v, i) => lines.push(`${label(s)},${i + 1},${fmt(v)}`));
          }
        } else if (table === "summary") {
          lines.push("run,optimizer,rho,final_loss");
          for (const t of ctx.inputs.train) {
            const rows = (await Deno.readTextFile(`${t.dir}/trajectory.csv`)).trim().split("\n");
            const last = rows[rows.length - 1].split(",")[1];
            lines.push(`${label(t)},${t.params.optimizer},${t.params.rho ?? 0},${last}`);
          }
        } else throw new Error(`unknown table ${table}`);
        await Deno.writeTextFile(`${ctx.outDir}/${table}.csv`, lines.join("\n") + "\n");
      }
    },
  } satisfies StageKind,
};

/** The registry under the name the pipeline's worker script imports. */
export const stageKinds = testStageKinds;
