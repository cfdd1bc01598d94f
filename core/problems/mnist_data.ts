/**
 * MNIST digits as a Setting 5.1 task (docs/theory.md §5): a binary problem with scalar output and
 * ±1 targets, as a pure function of the raw images (loaded by data/real_datasets.ts).
 *
 * Inputs are the 28×28 images averaged over s×s blocks (`downsample` s ∈ {1, 2, 4}: d = 784, 196
 * or 49), centred per pixel with the training mean and divided by one common factor, the training
 * root-mean-square of the centred features, so the mean squared feature is 1. A per-pixel scale
 * would turn a border pixel that is lit in one training image into an outlier of size √n.
 * @module
 */
import { Rng } from "../rng.ts";
import { mlpDepthParam, mlpDim, mlpModelFields, type MlpSpec } from "./mlp.ts";
import type { Dataset } from "./types.ts";
import { checkFields, fail, intField, regressionArrays } from "./validate.ts";

/** Side of an MNIST image. */
export const MNIST_SIDE = 28;

/** The raw digits with where they came from. */
export interface MnistRows {
  /** Which data set. */
  readonly name: "mnist";
  /** Images, row-major, one 784-value row per digit, values in [0, 1]. */
  readonly images: Float64Array;
  /** The digit (0–9) of each image. */
  readonly labels: Uint8Array;
  /** package, file, license, source, … (copied into the data set). */
  readonly provenance: Readonly<Record<string, string>>;
}

/** The binary tasks: even (+1) vs odd (−1), or digit a (−1) vs digit b (+1). */
export type MnistClasses = "parity" | readonly [number, number];

const MNIST_FIELDS = [
  "kind",
  "source",
  "hidden",
  "activation",
  "depth",
  "n",
  "nTest",
  "classes",
  "downsample",
];

/** The target of a digit under `classes`, or 0 when the digit takes no part. */
function target(classes: MnistClasses, digit: number): number {
  if (classes === "parity") return digit % 2 === 0 ? 1 : -1;
  return digit === classes[0] ? -1 : digit === classes[1] ? 1 : 0;
}

function classesField(value: unknown): MnistClasses {
  if (value === undefined || value === "parity") return "parity";
  const ok = Array.isArray(value) && value.length === 2 &&
    value.every((v) => Number.isInteger(v) && v >= 0 && v <= 9) && value[0] !== value[1];
  if (!ok) {
    fail(
      "mlp",
      `classes must be "parity" or two different digits [a, b] in 0–9 (got ${
        JSON.stringify(value)
      })`,
    );
  }
  return [value[0], value[1]];
}

/** Block-averages one 28×28 image into `out` ((28/s)² values). */
function downsampleInto(
  image: Float64Array,
  offset: number,
  s: number,
  out: Float64Array,
  at: number,
) {
  const side = MNIST_SIDE / s, inv = 1 / (s * s);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      let sum = 0;
      for (let i = 0; i < s; i++) {
        for (let j = 0; j < s; j++) {
          sum += image[offset + (r * s + i) * MNIST_SIDE + c * s + j];
        }
      }
      out[at + r * side + c] = sum * inv;
    }
  }
}

/**
 * The MNIST task of an mlp spec with `source: "mnist"`: the digits `classes` selects (default
 * "parity"), a seeded permutation of them whose first n (default 256) are the training set and next
 * nTest (default min(1000, the rest)) the held-out set, inputs downsampled by `downsample` (default
 * 2: 14×14, d = 196) and standardized with training statistics (module doc).
 */
export function mnistDataset(spec: MlpSpec, table: MnistRows, seed: number): Dataset {
  const kind = "mlp";
  if ((table as { name: string }).name !== "mnist") {
    fail(kind, `source "mnist" needs the MNIST rows (got "${(table as { name: string }).name}")`);
  }
  checkFields(kind, spec, MNIST_FIELDS);
  const model = mlpModelFields(spec);
  const raw = spec as MlpSpec & { classes?: unknown; downsample?: unknown };
  const classes = classesField(raw.classes);
  const s = raw.downsample ?? 2;
  if (s !== 1 && s !== 2 && s !== 4) {
    fail(kind, `downsample must be 1, 2 or 4 (got ${JSON.stringify(raw.downsample)})`);
  }
  const eligible: number[] = [];
  for (let i = 0; i < table.labels.length; i++) {
    if (target(classes, table.labels[i]) !== 0) eligible.push(i);
  }
  const total = eligible.length;
  const n = intField(kind, "n", spec.n, { fallback: Math.min(256, total - 1), min: 1 });
  if (n > total) fail(kind, `n must be ≤ ${total}, the MNIST digits of these classes (got ${n})`);
  const nTest = intField(kind, "nTest", spec.nTest, {
    fallback: Math.min(1000, total - n),
    min: 0,
  });
  if (nTest > total - n) {
    fail(kind, `nTest must be ≤ ${total - n}, the digits left after n (got ${nTest})`);
  }
  const order = new Rng(seed).sampleWithoutReplacement(
    total,
    new Int32Array(n + nTest),
    new Int32Array(total),
  );
  const side = MNIST_SIDE / s, d = side * side, pixels = MNIST_SIDE * MNIST_SIDE;
  const pack = (from: number, count: number) => {
    const z = new Float64Array(count * d), y = new Float64Array(count);
    for (let r = 0; r < count; r++) {
      const i = eligible[order[from + r]];
      downsampleInto(table.images, i * pixels, s, z, r * d);
      y[r] = target(classes, table.labels[i]);
    }
    return { z, y };
  };
  const train = pack(0, n), test = pack(n, nTest);
  // Per-pixel training mean, one common scale (module doc).
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += train.z[r * d + c] / n;
  let ss = 0;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) ss += (train.z[r * d + c] - mean[c]) ** 2;
  }
  const scale = Math.sqrt(ss / (n * d));
  if (!(scale > 0)) fail(kind, "the training images are all equal: nothing to standardize");
  for (const split of [train, test]) {
    for (let r = 0; r < split.y.length; r++) {
      for (let c = 0; c < d; c++) split.z[r * d + c] = (split.z[r * d + c] - mean[c]) / scale;
    }
  }
  const { arrays, shapes } = regressionArrays(train, test, { inputDim: d });
  let positives = 0;
  for (const v of train.y) if (v > 0) positives++;
  return {
    kind,
    params: {
      source: "mnist",
      hidden: model.hidden,
      activation: model.activation,
      ...mlpDepthParam(model.depth),
      n,
      d,
      nTest,
      dim: mlpDim({ hidden: model.hidden, inputDim: d, depth: model.depth }),
      classes: classes === "parity" ? "parity" : [...classes],
      downsample: s,
      target: classes === "parity"
        ? "parity (even +1, odd -1)"
        : `digit ${classes[0]} -1, digit ${classes[1]} +1`,
      inputScale: scale,
      trainPositives: positives,
      rowsUsable: total,
    },
    arrays,
    shapes,
    provenance: { ...table.provenance },
  };
}
