/**
 * Input checks shared by the data set builders and the problem constructors.
 *
 * Specs come from YAML and data sets from files, so every check names the kind and the field
 * and throws `RangeError`: a typo must fail loudly, never fall back to a default silently.
 * @module
 */
import type { Dataset } from "./types.ts";

/** Throws `RangeError("<kind>: <message>")`. */
export function fail(kind: string, message: string): never {
  throw new RangeError(`${kind}: ${message}`);
}

/** Rejects fields of `spec` outside `allowed` (catches misspelt YAML keys). */
export function checkFields(kind: string, spec: object, allowed: readonly string[]): void {
  for (const key of Object.keys(spec)) {
    if (!allowed.includes(key)) {
      fail(kind, `unknown field "${key}" (valid fields: ${allowed.join(", ")})`);
    }
  }
}

/** An integer field ≥ `min`, or `fallback` when absent. */
export function intField(
  kind: string,
  name: string,
  value: unknown,
  opts: { fallback: number; min: number },
): number {
  if (value === undefined) return opts.fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < opts.min) {
    fail(kind, `${name} must be an integer ≥ ${opts.min} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** A non-empty list of finite numbers. */
export function finiteList(kind: string, name: string, value: unknown): number[] {
  if (
    !Array.isArray(value) || value.length === 0 ||
    !value.every((v) => typeof v === "number" && Number.isFinite(v))
  ) {
    fail(kind, `${name} must be a non-empty list of finite numbers (got ${JSON.stringify(value)})`);
  }
  return value.slice();
}

/** A boolean field, or `fallback` when absent. */
export function boolField(kind: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    fail(kind, `${name} must be true or false (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** One of `allowed`, or `fallback` when absent. */
export function enumField<T extends string>(
  kind: string,
  name: string,
  value: unknown,
  opts: { allowed: readonly T[]; fallback: T },
): T {
  if (value === undefined) return opts.fallback;
  if (!opts.allowed.includes(value as T)) {
    fail(
      kind,
      `${name} must be one of ${opts.allowed.join(", ")} (got ${JSON.stringify(value)})`,
    );
  }
  return value as T;
}

/**
 * The array `name` of a data set, checked to be a `Float64Array` of the given shape (and to agree
 * with the recorded shape, when there is one).
 */
export function datasetArray(
  dataset: Dataset,
  name: string,
  shape: readonly number[],
): Float64Array {
  const kind = dataset.kind;
  const a = dataset.arrays[name];
  if (!(a instanceof Float64Array)) fail(kind, `data set has no Float64Array "${name}"`);
  const size = shape.reduce((p, s) => p * s, 1);
  if (a.length !== size) {
    fail(kind, `array "${name}" has length ${a.length}, expected ${size} for shape [${shape}]`);
  }
  const recorded = dataset.shapes[name];
  if (recorded && (recorded.length !== shape.length || recorded.some((s, i) => s !== shape[i]))) {
    fail(kind, `array "${name}" is recorded with shape [${recorded}], expected [${shape}]`);
  }
  return a;
}

/** The recorded shape of array `name`, which must have `rank` positive integer entries. */
export function datasetShape(dataset: Dataset, name: string, rank: number): number[] {
  const s = dataset.shapes[name];
  if (
    !s || s.length !== rank || !s.every((v) => Number.isInteger(v) && v > 0)
  ) {
    fail(
      dataset.kind,
      `shape of "${name}" must be ${rank} positive integers (got ${JSON.stringify(s)})`,
    );
  }
  return s.slice();
}

/** Inputs (m×d, row-major) and targets (m) of one split of a regression data set. */
export interface Split {
  /** Inputs, row-major. */
  readonly z: Float64Array;
  /** Targets. */
  readonly y: Float64Array;
}

/**
 * Arrays and shapes of a regression data set: `z`, `y` from the training split, `zTest`, `yTest`
 * when the held-out split is non-empty, plus any `extra` arrays (1-D).
 */
export function regressionArrays(
  train: Split,
  test: Split,
  opts: { inputDim: number; extra?: Readonly<Record<string, Float64Array>> },
): { arrays: Record<string, Float64Array>; shapes: Record<string, number[]> } {
  const d = opts.inputDim, n = train.y.length, nTest = test.y.length;
  const arrays: Record<string, Float64Array> = { z: train.z, y: train.y };
  const shapes: Record<string, number[]> = { z: [n, d], y: [n] };
  for (const [name, a] of Object.entries(opts.extra ?? {})) {
    arrays[name] = a;
    shapes[name] = [a.length];
  }
  if (nTest > 0) {
    arrays.zTest = test.z;
    arrays.yTest = test.y;
    shapes.zTest = [nTest, d];
    shapes.yTest = [nTest];
  }
  return { arrays, shapes };
}

/** A scalar model's output f(x, z, k) for input row k of a row-major input matrix z. */
export type RowModel = (x: Float64Array, z: Float64Array, k: number) => number;

/**
 * The held-out mean squared error x ↦ mean_k (f(x, zTest, k) − yTest_k)² of a data set with a
 * held-out split (arrays zTest, yTest), or undefined when it has none.
 */
export function heldOutMse(
  dataset: Dataset,
  inputDim: number,
  f: RowModel,
): ((x: Float64Array) => number) | undefined {
  if (!dataset.arrays.zTest) return undefined;
  const [nTest] = datasetShape(dataset, "zTest", 2);
  const zt = datasetArray(dataset, "zTest", [nTest, inputDim]);
  const yt = datasetArray(dataset, "yTest", [nTest]);
  return (x) => {
    let s = 0;
    for (let k = 0; k < nTest; k++) {
      const r = f(x, zt, k) - yt[k];
      s += r * r;
    }
    return s / nTest;
  };
}

/** out ← f(x, z, k) − y_k for every row k of z. */
export function fillResiduals(
  f: RowModel,
  x: Float64Array,
  data: { z: Float64Array; y: Float64Array },
  out: Float64Array,
): void {
  for (let k = 0; k < data.y.length; k++) out[k] = f(x, data.z, k) - data.y[k];
}
