/**
 * The 4-D toy of Figure 1 (docs/theory.md §7): L_0 = F1(x1,x2)·x3²,
 * L_1 = F2(x1,x2)·x4², L = (L_0 + L_1)/2, Γ = {x3 = x4 = 0}, Hessian eigenvalues F1 and F2 on Γ.
 * @module
 */
import type { Batch } from "../engine/types.ts";
import type { Dataset, F64Problem } from "./types.ts";
import { checkFields, enumField } from "./validate.ts";

/**
 * The families of (F1, F2): "paper" (docs/theory.md §7; F1 − F2 = ½(a−1)² + ½b² + 1 ≥ 1) and "shifted"
 * (the three argmins not collinear; F1 − F2 = ½(a−2)² + ½(b+1)², so the eigengap closes at (2, −1)).
 */
export const TOY4D_FAMILIES = ["paper", "shifted"] as const;
/** A family of (F1, F2). */
export type Toy4dFamily = typeof TOY4D_FAMILIES[number];

/** Spec of a toy4d data set. */
export interface Toy4dSpec {
  /** Discriminant. */
  readonly kind: "toy4d";
  /** Which (F1, F2) (default "paper"). */
  readonly family?: Toy4dFamily;
}

/**
 * Both families are F1 = 3 + (a − p1)² + (b − q1)², F2 = 1 + ½((a − p2)² + (b − q2)²), so
 * argmin F1 = (p1, q1), argmin F2 = (p2, q2), argmin (F1 + F2) = ((2p1 + p2)/3, (2q1 + q2)/3).
 */
const CENTRES: Readonly<Record<Toy4dFamily, readonly [number, number, number, number]>> = {
  paper: [0, 0, -1, 0],
  shifted: [1, 0, 0, 1],
};

/** The argmins of F1, F2 and F1 + F2 over (x1, x2) for a family (the predicted endpoints). */
export function toy4dArgmins(family: Toy4dFamily): {
  f1: [number, number];
  f2: [number, number];
  sum: [number, number];
} {
  const [p1, q1, p2, q2] = CENTRES[family];
  return { f1: [p1, q1], f2: [p2, q2], sum: [(2 * p1 + p2) / 3, (2 * q1 + q2) / 3] };
}

/** Builds a toy4d data set (no arrays: the problem is fixed by its family). */
export function toy4dDataset(spec: Toy4dSpec): Dataset {
  const kind = "toy4d";
  checkFields(kind, spec, ["kind", "family"]);
  const family = enumField(kind, "family", spec.family, {
    allowed: TOY4D_FAMILIES,
    fallback: "paper",
  });
  return { kind, params: { family, dim: 4 }, arrays: {}, shapes: {} };
}

/** The toy's loss with closed-form derivatives; a handful of flops per call. */
export class Toy4dProblem implements F64Problem {
  /** Problem kind. */
  readonly kind = "toy4d";
  /** D = 4. */
  readonly dim = 4;
  /** M = 2. */
  readonly numSamples = 2;
  /** The family of (F1, F2). */
  readonly family: Toy4dFamily;
  readonly #p1: number;
  readonly #q1: number;
  readonly #p2: number;
  readonly #q2: number;

  /** Wraps a "toy4d" data set. */
  constructor(dataset: Dataset) {
    this.family = enumField("toy4d", "family", dataset.params.family, {
      allowed: TOY4D_FAMILIES,
      fallback: "paper",
    });
    [this.#p1, this.#q1, this.#p2, this.#q2] = CENTRES[this.family];
  }

  /** F1(a, b). */
  f1(a: number, b: number): number {
    const da = a - this.#p1, db = b - this.#q1;
    return 3 + da * da + db * db;
  }

  /** F2(a, b). */
  f2(a: number, b: number): number {
    const da = a - this.#p2, db = b - this.#q2;
    return 1 + 0.5 * (da * da + db * db);
  }

  /** Weight of L_0 in the batch mean (½ for the full batch); L_1 gets 1 − w0. */
  #w0(batch: Batch): number {
    if (batch === undefined) return 0.5;
    let c = 0;
    for (let i = 0; i < batch.length; i++) if (batch[i] === 0) c++;
    return c / batch.length;
  }

  /** w0·F1·x3² + w1·F2·x4². */
  loss(x: Float64Array, batch?: Batch): number {
    const w0 = this.#w0(batch);
    return w0 * this.f1(x[0], x[1]) * x[2] * x[2] + (1 - w0) * this.f2(x[0], x[1]) * x[3] * x[3];
  }

  /** Closed-form gradient. */
  grad(x: Float64Array, out: Float64Array, batch?: Batch): void {
    const w0 = this.#w0(batch), w1 = 1 - w0;
    const a = x[0], b = x[1], u = x[2], v = x[3];
    const a1 = a - this.#p1, b1 = b - this.#q1, a2 = a - this.#p2, b2 = b - this.#q2;
    const s0 = 2 * w0 * u * u, s1 = w1 * v * v; // ∂F1/∂a = 2·a1, ∂F2/∂a = a2
    out[0] = s0 * a1 + s1 * a2;
    out[1] = s0 * b1 + s1 * b2;
    out[2] = 2 * w0 * (3 + a1 * a1 + b1 * b1) * u;
    out[3] = 2 * w1 * (1 + 0.5 * (a2 * a2 + b2 * b2)) * v;
  }

  /** Closed-form Hessian times v (the Hessian's only zeros are H_ab and H_34). */
  hvp(x: Float64Array, v: Float64Array, out: Float64Array, batch?: Batch): void {
    const w0 = this.#w0(batch), w1 = 1 - w0;
    const a = x[0], b = x[1], u = x[2], t = x[3];
    const a1 = a - this.#p1, b1 = b - this.#q1, a2 = a - this.#p2, b2 = b - this.#q2;
    const hd = 2 * w0 * u * u + w1 * t * t; // H_aa = H_bb
    const h3 = 4 * w0 * u, h4 = 2 * w1 * t; // H_a3 = h3·a1, H_a4 = h4·a2, H_b3 = h3·b1, H_b4 = h4·b2
    const h33 = 2 * w0 * (3 + a1 * a1 + b1 * b1), h44 = 2 * w1 * (1 + 0.5 * (a2 * a2 + b2 * b2));
    const v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3];
    out[0] = hd * v0 + h3 * a1 * v2 + h4 * a2 * v3;
    out[1] = hd * v1 + h3 * b1 * v2 + h4 * b2 * v3;
    out[2] = h3 * (a1 * v0 + b1 * v1) + h33 * v2;
    out[3] = h4 * (a2 * v0 + b2 * v1) + h44 * v3;
  }

  /**
   * The SAM step (and 1-SAM's, by the batch's weights) in one call: createStep's generic step
   * (core/optim/step.ts) with the gradient inlined, the same operations in the same order and so
   * the same bits (tested). The toy runs are tens of millions of steps.
   */
  fusedSam(_batchSize: number): (x: Float64Array, batch: Batch, lr: number, rho: number) => void {
    return this.#fused(false);
  }

  /**
   * GD on L^Asc in one call per step, x ← x − η(I + ρ∇ĝ(x))ᵀ∇L(x̃): createStep's exact-asc step
   * (core/optim/step.ts) with the gradient and HVP inlined, the same operations in the same order
   * and so the same bits (tested); about half the time of the generic step (≈45 against ≈100 ns).
   */
  fusedAsc(_batchSize: number): (x: Float64Array, batch: Batch, lr: number, rho: number) => void {
    return this.#fused(true);
  }

  /**
   * The fused SAM (asc false) or L^Asc step. Written out in scalars: calling grad and hvp on work
   * vectors instead made the L^Asc step 75 ns and left SAM's at the generic 62 ns (measured).
   */
  #fused(asc: boolean): (x: Float64Array, batch: Batch, lr: number, rho: number) => void {
    const p1 = this.#p1, q1 = this.#q1, p2 = this.#p2, q2 = this.#q2;
    return (x, batch, lr, rho) => {
      const w0 = this.#w0(batch), w1 = 1 - w0;
      const a = x[0], b = x[1], u = x[2], v = x[3];
      // g = ∇L_B(x), as in grad, and ‖g‖ as F64Ops.norm.
      const a1 = a - p1, b1 = b - q1, a2 = a - p2, b2 = b - q2;
      const s0 = 2 * w0 * u * u, s1 = w1 * v * v;
      const g0 = s0 * a1 + s1 * a2, g1 = s0 * b1 + s1 * b2;
      const g2 = 2 * w0 * (3 + a1 * a1 + b1 * b1) * u;
      const g3 = 2 * w1 * (1 + 0.5 * (a2 * a2 + b2 * b2)) * v;
      const n = Math.sqrt((((0 + g0 * g0) + g1 * g1) + g2 * g2) + g3 * g3);
      const negLr = -lr;
      if (!asc) {
        // x̃ = ρĝ + x (ρe₁ + x at g = 0), as F64Ops.setNormalized then axpy.
        let t0 = rho, t1 = 0, t2 = 0, t3 = 0;
        if (n !== 0) {
          const f = rho / n;
          t0 = f * g0;
          t1 = f * g1;
          t2 = f * g2;
          t3 = f * g3;
        }
        t0 += 1 * a;
        t1 += 1 * b;
        t2 += 1 * u;
        t3 += 1 * v;
        // x ← x − η∇L_B(x̃).
        const c1 = t0 - p1, d1 = t1 - q1, c2 = t0 - p2, d2 = t1 - q2;
        const r0 = 2 * w0 * t2 * t2, r1 = w1 * t3 * t3;
        x[0] = a + negLr * (r0 * c1 + r1 * c2);
        x[1] = b + negLr * (r0 * d1 + r1 * d2);
        x[2] = u + negLr * (2 * w0 * (3 + c1 * c1 + d1 * d1) * t2);
        x[3] = v + negLr * (2 * w1 * (1 + 0.5 * (c2 * c2 + d2 * d2)) * t3);
        return;
      }
      // ĝ (e₁ at g = 0) and x̃ = x + ρĝ, as F64Ops.setNormalized and addScaled.
      let e0 = 1, e1 = 0, e2 = 0, e3 = 0;
      if (n !== 0) {
        const f = 1 / n;
        e0 = f * g0;
        e1 = f * g1;
        e2 = f * g2;
        e3 = f * g3;
      }
      const ta = a + rho * e0, tb = b + rho * e1, tu = u + rho * e2, tv = v + rho * e3;
      // gt = ∇L_B(x̃).
      const c1 = ta - p1, d1 = tb - q1, c2 = ta - p2, d2 = tb - q2;
      const r0 = 2 * w0 * tu * tu, r1 = w1 * tv * tv;
      const h0 = r0 * c1 + r1 * c2, h1 = r0 * d1 + r1 * d2;
      const h2 = 2 * w0 * (3 + c1 * c1 + d1 * d1) * tu;
      const h3 = 2 * w1 * (1 + 0.5 * (c2 * c2 + d2 * d2)) * tv;
      // w = gt − (ĝ·gt)ĝ, as dot, copy and axpyS.
      const ms = -1 * ((((0 + e0 * h0) + e1 * h1) + e2 * h2) + e3 * h3);
      const v0 = h0 + ms * e0, v1 = h1 + ms * e1, v2 = h2 + ms * e2, v3 = h3 + ms * e3;
      // ∇²L_B(x)·w, as in hvp.
      const hd = 2 * w0 * u * u + w1 * v * v;
      const k3 = 4 * w0 * u, k4 = 2 * w1 * v;
      const k33 = 2 * w0 * (3 + a1 * a1 + b1 * b1), k44 = 2 * w1 * (1 + 0.5 * (a2 * a2 + b2 * b2));
      const o0 = hd * v0 + k3 * a1 * v2 + k4 * a2 * v3;
      const o1 = hd * v1 + k3 * b1 * v2 + k4 * b2 * v3;
      const o2 = k3 * (a1 * v0 + b1 * v1) + k33 * v2;
      const o3 = k4 * (a2 * v0 + b2 * v1) + k44 * v3;
      // x ← x − η·gt − (ηρ/‖g‖)·∇²L·w (the Jacobian term dropped at g = 0), as axpy and axpyDivS.
      let x0 = a + negLr * h0, x1 = b + negLr * h1, x2 = u + negLr * h2, x3 = v + negLr * h3;
      if (n !== 0) {
        const c = -lr * rho / n;
        x0 += c * o0;
        x1 += c * o1;
        x2 += c * o2;
        x3 += c * o3;
      }
      x[0] = x0;
      x[1] = x1;
      x[2] = x2;
      x[3] = x3;
    };
  }

  /** Dense closed-form Hessian (4×4). */
  hessian(x: Float64Array, batch?: Batch): Float64Array {
    const w0 = this.#w0(batch), w1 = 1 - w0;
    const a = x[0], b = x[1], u = x[2], t = x[3];
    const a1 = a - this.#p1, b1 = b - this.#q1, a2 = a - this.#p2, b2 = b - this.#q2;
    const hd = 2 * w0 * u * u + w1 * t * t;
    const ha3 = 4 * w0 * u * a1,
      hb3 = 4 * w0 * u * b1,
      ha4 = 2 * w1 * t * a2,
      hb4 = 2 * w1 * t * b2;
    const h33 = 2 * w0 * this.f1(a, b), h44 = 2 * w1 * this.f2(a, b);
    // deno-fmt-ignore
    return Float64Array.of(
      hd, 0, ha3, ha4,
      0, hd, hb3, hb4,
      ha3, hb3, h33, 0,
      ha4, hb4, 0, h44,
    );
  }
}
