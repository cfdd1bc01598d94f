/**
 * Test support for the tfjs problems: small hand-made data sets of every kind and independent
 * float64 oracles (the losses written out from their definitions with plain loops, and central finite
 * differences of them). Used only by tests.
 * @module
 */
import { Rng } from "../rng.ts";
import type { Dataset } from "./types.ts";

/** A symmetric D×D matrix with N(0,1) entries, row-major. */
function randomSymmetric(dim: number, rng: Rng): Float64Array {
  const a = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) a[i * dim + j] = a[j * dim + i] = rng.normal();
  }
  return a;
}

/** n×d inputs and n targets with N(0,1) entries. */
function regressionData(n: number, d: number, rng: Rng) {
  return {
    arrays: { z: rng.fillNormal(new Float64Array(n * d)), y: rng.fillNormal(new Float64Array(n)) },
    shapes: { z: [n, d], y: [n] },
  };
}

/** One small data set of every problem kind (both toy4d families, both mlp activations). */
export function testDatasets(seed = 1): Dataset[] {
  const rng = new Rng(seed);
  const dq = 4, d2 = 3;
  return [
    {
      kind: "quadratic",
      params: {},
      arrays: { A: randomSymmetric(dq, rng) },
      shapes: { A: [dq, dq] },
    },
    {
      kind: "two-quadratics",
      params: {},
      arrays: { A1: randomSymmetric(d2, rng), A2: randomSymmetric(d2, rng) },
      shapes: { A1: [d2, d2], A2: [d2, d2] },
    },
    { kind: "toy4d", params: { family: "paper" }, arrays: {}, shapes: {} },
    { kind: "toy4d", params: { family: "shifted" }, arrays: {}, shapes: {} },
    { kind: "sanity2d", params: {}, arrays: {}, shapes: {} },
    { kind: "diagnet", params: {}, ...regressionData(6, 4, rng) },
    { kind: "mlp", params: { hidden: 4, activation: "tanh" }, ...regressionData(6, 3, rng) },
    { kind: "mlp", params: { hidden: 4, activation: "softplus" }, ...regressionData(6, 3, rng) },
  ];
}

/** A short label for a data set in test names. */
export function datasetLabel(ds: Dataset): string {
  const extra = ds.params.family ?? ds.params.activation;
  return extra ? `${ds.kind}/${extra}` : ds.kind;
}

/** Number of parameters D of a test data set. */
export function datasetDim(ds: Dataset): number {
  switch (ds.kind) {
    case "quadratic":
      return ds.shapes.A[0];
    case "two-quadratics":
      return ds.shapes.A1[0];
    case "toy4d":
      return 4;
    case "sanity2d":
      return 2;
    case "diagnet":
      return 2 * ds.shapes.z[1];
    case "mlp":
      return (ds.params.hidden as number) * (ds.shapes.z[1] + 2);
  }
  throw new RangeError(`unknown kind ${ds.kind}`);
}

/** Number of samples M of a test data set. */
export function datasetSamples(ds: Dataset): number {
  if (ds.kind === "two-quadratics" || ds.kind === "toy4d") return 2;
  if (ds.kind === "diagnet" || ds.kind === "mlp") return ds.shapes.y[0];
  return 1;
}

/** ½ xᵀAx with A row-major D×D. */
function halfQuadForm(a: Float64Array, x: ArrayLike<number>): number {
  const dim = x.length;
  let s = 0;
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) s += x[i] * a[i * dim + j] * x[j];
  }
  return 0.5 * s;
}

/** Per-sample model output f_k(x) of diagnet / mlp, written from its definition. */
function modelOutput(ds: Dataset, x: ArrayLike<number>, k: number): number {
  const d = ds.shapes.z[1], z = ds.arrays.z;
  if (ds.kind === "diagnet") {
    let f = 0;
    for (let i = 0; i < d; i++) f += (x[i] * x[i] - x[d + i] * x[d + i]) * z[k * d + i];
    return f;
  }
  const h = ds.params.hidden as number;
  const sigma = ds.params.activation === "tanh"
    ? Math.tanh
    : (t: number) => (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)));
  let f = 0;
  for (let j = 0; j < h; j++) {
    let pre = x[h * d + j];
    for (let i = 0; i < d; i++) pre += x[j * d + i] * z[k * d + i];
    f += x[h * d + h + j] * sigma(pre);
  }
  return f;
}

/** L_k(x) of sample k in float64; `noise` is subtracted from the label (Setting 5.1 models). */
export function sampleLossF64(ds: Dataset, x: ArrayLike<number>, k: number, noise = 0): number {
  switch (ds.kind) {
    case "quadratic":
      return halfQuadForm(ds.arrays.A, x);
    case "two-quadratics":
      return halfQuadForm(k === 0 ? ds.arrays.A1 : ds.arrays.A2, x);
    case "toy4d": {
      const [a, b, x3, x4] = [x[0], x[1], x[2], x[3]];
      const shifted = ds.params.family === "shifted";
      const f1 = shifted ? 3 + (a - 1) ** 2 + b * b : 3 + a * a + b * b;
      const f2 = shifted ? 1 + 0.5 * (a * a + (b - 1) ** 2) : 1 + 0.5 * ((a + 1) ** 2 + b * b);
      return k === 0 ? f1 * x3 * x3 : f2 * x4 * x4;
    }
    case "sanity2d":
      return 0.5 * (1 - x[0] * x[1]) ** 2;
    case "diagnet":
    case "mlp":
      return (modelOutput(ds, x, k) - ds.arrays.y[k] - noise) ** 2;
  }
  throw new RangeError(`unknown kind ${ds.kind}`);
}

/** Mean float64 loss over `batch` (all samples when undefined), label noise aligned with batch. */
export function lossF64(
  ds: Dataset,
  x: ArrayLike<number>,
  batch?: ArrayLike<number>,
  noise?: ArrayLike<number>,
): number {
  const idx = batch ?? Array.from({ length: datasetSamples(ds) }, (_, k) => k);
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += sampleLossF64(ds, x, idx[i], noise?.[i] ?? 0);
  return s / idx.length;
}

/** Central finite-difference gradient of `f` at x with step ε (float64). */
export function fdGrad(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  eps: number,
): Float64Array {
  const xp = Float64Array.from(x), g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    xp[i] = x[i] + eps;
    const fp = f(xp);
    xp[i] = x[i] - eps;
    const fm = f(xp);
    xp[i] = x[i];
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/**
 * Finite-difference Hessian-vector product of `f` at x: the central difference along v of the
 * central-difference gradient, (∇f(x+εv) − ∇f(x−εv))/(2ε), all in float64.
 */
export function fdHvp(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  v: ArrayLike<number>,
  eps: number,
): Float64Array {
  const shifted = (s: number) => Float64Array.from(x, (xi, i) => xi + s * v[i]);
  const gp = fdGrad(f, shifted(eps), eps), gm = fdGrad(f, shifted(-eps), eps);
  return gp.map((p, i) => (p - gm[i]) / (2 * eps));
}

/** ‖a − b‖₂ / ‖b‖₂ (‖a − b‖₂ when b = 0). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / (den > 0 ? Math.sqrt(den) : 1);
}

/** `values` rounded to float32, so float64 oracles evaluate exactly where the tfjs engine does. */
export function toF32(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values, Math.fround);
}
