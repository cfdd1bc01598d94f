/**
 * A run with a `window` field writes `window.csv` (start, step, proj, sign, sample, loss), and the
 * tabulate stage gathers the windows of every run into one tidy `window.csv` with the run columns.
 * The stage kinds are driven directly (the experiment-file parser is the pipeline's business).
 */
import { writeToDir } from "../pipeline/pack.ts";
import * as aq from "arquero";
import { assert, assertEquals } from "../testing/assert.ts";
import type { InputArtifact, StageContext, StageKind } from "../pipeline/stage.ts";
import { datasetStage } from "./dataset.ts";
import { tabulateStage } from "./tabulate.ts";
import { trainStage } from "./train.ts";
import { RUN_COLUMNS } from "./codebook.ts";

async function runStage(
  kind: StageKind,
  id: string,
  params: Record<string, unknown>,
  inputs: Record<string, InputArtifact[]>,
): Promise<InputArtifact> {
  const outDir = await Deno.makeTempDir();
  const ctx: StageContext = {
    id,
    params,
    inputs,
    outDir,
    write: writeToDir(outDir),
    progress() {},
    log() {},
  };
  await kind.run(ctx);
  return { id, key: id, dir: outDir, params };
}

Deno.test("window: train writes window.csv, tabulate gathers it with the run columns", async () => {
  const dirs: string[] = [];
  try {
    const dataset = await runStage(
      datasetStage,
      "dataset/w",
      { kind: "toy4d", family: "paper" },
      {},
    );
    dirs.push(dataset.dir);
    const base = {
      experiment: "w",
      lr: 0.05,
      rho: 0.05,
      steps: 200,
      x0: [1, 1, 0.3, 0.3],
      backend: "f64",
    };
    const windowed = await runStage(trainStage, "train/w/1sam", {
      ...base,
      optimizer: "1sam",
      window: { at: [100, 150], length: 4 },
    }, { dataset: [dataset] });
    const plain = await runStage(trainStage, "train/w/gd", { ...base, optimizer: "gd", rho: 0 }, {
      dataset: [dataset],
    });
    dirs.push(windowed.dir, plain.dir);
    const own = aq.fromCSV(await Deno.readTextFile(`${windowed.dir}/window.csv`));
    assertEquals(own.columnNames(), ["start", "step", "proj", "sign", "sample", "loss"]);
    assertEquals(own.array("step"), [100, 101, 102, 103, 150, 151, 152, 153]);
    // The run's own trajectory row at step 100 has the same loss and sample as the window row.
    const traj = aq.fromCSV(await Deno.readTextFile(`${windowed.dir}/trajectory.csv`));
    const at100 = traj.objects().find((r) => (r as { step: number }).step === 100) as Record<
      string,
      number
    >;
    const row = own.objects()[0] as Record<string, number>;
    assertEquals([row.loss, row.sample], [at100.loss, at100.sample]);
    assert(
      own.objects().every((r) =>
        Math.sign((r as { proj: number }).proj) === (r as { sign: number }).sign
      ),
    );
    assert(!(await exists(`${plain.dir}/window.csv`)), "no window, no window.csv");

    const tab = await runStage(tabulateStage, "tabulate/w", {
      experiment: "w",
      tables: ["trajectory"],
    }, {
      dataset: [dataset],
      train: [windowed, plain],
    });
    dirs.push(tab.dir);
    const gathered = aq.fromCSV(await Deno.readTextFile(`${tab.dir}/window.csv`));
    assertEquals(gathered.columnNames(), [
      ...RUN_COLUMNS,
      "start",
      "step",
      "proj",
      "sign",
      "sample",
      "loss",
    ]);
    assertEquals(gathered.numRows(), 8);
    assertEquals([...new Set(gathered.array("run") as string[])], ["1sam"]);
    assertEquals(gathered.array("proj"), own.array("proj"));
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("window: the train stage's validate names a bad window field", async () => {
  const upstream = { dataset: [{ kind: "toy4d", family: "paper" }] };
  const base = { optimizer: "gd", lr: 0.05, steps: 200, x0: [1, 1, 0.3, 0.3] };
  const message = async (window: unknown) => {
    try {
      await trainStage.validate!({ ...base, window }, upstream);
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assertEquals(await message({ at: [0, 197], length: 4 }), "");
  assertEquals(
    await message({ at: [198], length: 4 }),
    "window.at entries must be integers in [0, steps − length + 1 = 197] (got 198)",
  );
  assertEquals(
    await message([100]),
    "window must be a mapping { at: [steps], length } (got [100])",
  );
  assertEquals(await message({ at: [1], len: 4 }), "window: unknown key len (valid: at, length)");
});
