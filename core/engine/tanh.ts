/**
 * A float64 tanh for the f64 engine's MLPs (every pass of the three-layer network; the two-layer
 * network's GEMM path runs tanh_simd.ts's kernel, which falls back to this one): V8's Math.tanh
 * costs 10–30 ns per call here, which made the activation pass of the dense MLP (n·h values, twice
 * per SAM step) slower than its matrix products. This one is inlinable arithmetic:
 * tanh x = E/(E + 2) with E = expm1(2x), and for y = k·ln2/32 + r, |r| ≤ ln2/64, k = 32q + j:
 *
 *     expm1(y) = 2^q·(T_j·expm1(r) + (T_j − 1)) + (2^q − 1),   T_j = 2^(j/32),
 *
 * expm1(r) by its Taylor series to r⁷ (remainder below 1e-18 relative). No cancellation beyond a
 * bit: for j = 0 the inner sum is the series itself, for j ≥ 1 the table term T_j − 1 ≥ 0.0219 is
 * at least 1.9 times |T_j·expm1(r)| ≤ 0.0112, and for q ≥ 1 the two outer terms are positive. The 32-entry table
 * is built once from Math.expm1. Within a few ulps of Math.tanh (tested), and the same bits on every
 * machine for a given Deno (IEEE arithmetic, and V8's own expm1 for the table).
 * @module
 */

/** ln2/32 with its low 12 bits cleared, so that k·L_HI is exact for every k this tanh takes. */
const L_HI = (() => {
  const v = new Float64Array([Math.LN2 / 32]);
  new BigUint64Array(v.buffer)[0] &= ~0xfffn;
  return v[0];
})();
/** ln2/32 − L_HI, from ln2 split as hi + lo (6.93147180369123816490e-1 + 1.908…e-10). */
const L_LO = ((6.93147180369123816490e-1 - 32 * L_HI) + 1.90821492927058770002e-10) / 32;
const INV_L = 32 / Math.LN2;
/** T_j − 1 = expm1(j·ln2/32) and T_j = 2^(j/32), j = 0…31. */
const TM1 = Float64Array.from({ length: 32 }, (_, j) => Math.expm1(j * Math.LN2 / 32));
const T = Float64Array.from(TM1, (v) => 1 + v);
/** 2^q for q in [−64, 64], indexed q + 64 (|2x| ≤ 40 needs q ≤ 57). */
const POW2 = Float64Array.from({ length: 129 }, (_, i) => 2 ** (i - 64));

/** tanh(x) in float64 (odd by construction: computed at |x|). */
export function tanh(x: number): number {
  if (x === 0 || x !== x) return x; // keeps −0 and NaN
  // |2x| clamped at 40 (tanh 20 rounds to 1) instead of a branch per side, and floor(v + ½) for
  // Math.round, which V8 calls out for here. k ≤ 40·32/ln2 < 2¹¹.
  const y = Math.min(Math.abs(2 * x), 40);
  const k = Math.floor(y * INV_L + 0.5);
  const r = (y - k * L_HI) - k * L_LO;
  const em = r + r * r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 +
                        r * (1 / 5040))))));
  const j = k & 31;
  const p = POW2[(k >> 5) + 64];
  const e = p * (T[j] * em + TM1[j]) + (p - 1);
  const t = e / (e + 2);
  // −t without a branch (t − 2t is exact): the signs of an activation pass are random, and a
  // mispredicted branch cost about 2.5 ns of the 16 per value (measured).
  return t - 2 * +(x < 0) * t;
}
