/**
 * The one seeded pseudo-random generator used by the numerical core.
 *
 * Built on pure-rand's xoroshiro128+ so that every stream is reproducible bit for bit
 * from an integer seed, on every engine.
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

type Generator = ReturnType<typeof xoroshiro128plus>;

/** A seeded stream of uniform, integer and standard-normal variates. */
export class Rng {
  #gen: Generator;
  #spare = Number.NaN;

  /** Creates a stream from an integer seed; equal seeds give equal streams. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer (got ${seed})`);
    this.#gen = xoroshiro128plus(seed);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return uniformFloat64(this.#gen);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal variate (Marsaglia polar method; the spare value is cached). */
  normal(): number {
    if (!Number.isNaN(this.#spare)) {
      const s = this.#spare;
      this.#spare = Number.NaN;
      return s;
    }
    let u = 0, v = 0, s = 0;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt(-2 * Math.log(s) / s);
    this.#spare = v * f;
    return u * f;
  }

  /** Fills `out` with standard normal variates and returns it. */
  fillNormal(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** Fills `out` with independent ±1 (Rademacher) variates and returns it. */
  fillRademacher(out: Float64Array): Float64Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform() < 0.5 ? -1 : 1;
    return out;
  }

  /** Fills `out` with a point uniform on the sphere of the given radius and returns it. */
  fillSphere(out: Float64Array, radius = 1): Float64Array {
    let n2 = 0;
    do {
      this.fillNormal(out);
      n2 = 0;
      for (let i = 0; i < out.length; i++) n2 += out[i] * out[i];
    } while (n2 === 0);
    const f = radius / Math.sqrt(n2);
    for (let i = 0; i < out.length; i++) out[i] *= f;
    return out;
  }

  /** Writes `out.length` distinct indices drawn uniformly from [0, n) into `out` (partial Fisher–Yates). */
  sampleWithoutReplacement(n: number, out: Int32Array, scratch: Int32Array): Int32Array {
    if (out.length > n) {
      throw new RangeError(`cannot draw ${out.length} distinct indices from ${n}`);
    }
    for (let i = 0; i < n; i++) scratch[i] = i;
    for (let i = 0; i < out.length; i++) {
      const j = i + this.int(n - i);
      const t = scratch[i];
      scratch[i] = scratch[j];
      scratch[j] = t;
      out[i] = scratch[i];
    }
    return out;
  }
}
