/**
 * A float64 tanh for the f64 engine's GEMM path: V8's Math.tanh costs 10–30 ns per call here,
 * which made the activation pass of the dense MLP (n·h values, twice per SAM step) slower than its
 * matrix products. This one is inlinable arithmetic: tanh x = E/(E + 2) with E = expm1(2x), and
 * expm1(y) = 2ᵏ·expm1(r) + (2ᵏ − 1) for y = k·ln2 + r, |r| ≤ ln2/2, expm1(r) by its Taylor series
 * to r¹⁴ (remainder below 1e-17). No cancellation: for k = 0 the series is the result itself, for
 * |k| ≥ 1 the two terms add with |2ᵏ − 1| ≥ ½. Within a few ulps of Math.tanh (tested), and the
 * same bits on every machine (plain IEEE arithmetic).
 * @module
 */

const LN2_HI = 6.93147180369123816490e-1;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700;
/** 2^k for k in [−64, 64], indexed k + 64 (|2x| ≤ 40 needs |k| ≤ 58). */
const POW2 = Float64Array.from({ length: 129 }, (_, i) => 2 ** (i - 64));

/** tanh(x) in float64 (odd by construction: computed at |x|). */
export function tanh(x: number): number {
  if (x > 20) return 1;
  if (x < -20) return -1;
  if (x === 0 || x !== x) return x; // keeps −0 and NaN
  const y = x < 0 ? -2 * x : 2 * x;
  const k = Math.round(y * INV_LN2);
  const r = (y - k * LN2_HI) - k * LN2_LO;
  // expm1(r) = r + r²/2! + … + r¹⁴/14!, Horner form.
  const em = r * (1 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 +
                        r *
                          (1 / 5040 +
                            r *
                              (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800 +
                                            r *
                                              (1 / 479001600 +
                                                r *
                                                  (1 / 6227020800 +
                                                    r * (1 / 87178291200))))))))))))));
  const p = POW2[k + 64];
  const e = p * em + (p - 1);
  const t = e / (e + 2);
  return x < 0 ? -t : t;
}
