/**
 * F64RunsOps against its oracle, F64Ops on each run's segment: every operation bit for bit, with
 * runs that hit the special cases (a zero vector to normalize, s = 0 in axpyDivS).
 */
import { assertEquals } from "../../testing/assert.ts";
import { F64Ops } from "./f64.ts";
import { F64RunsOps } from "./f64_runs.ts";

const D = 5, R = 3;
const ops = new F64RunsOps(D, R);
const one = new F64Ops(D);
const rows = (v: Float64Array) => Array.from({ length: R }, (_, r) => ops.row(v, r));

/** A block of R pseudo-random runs; run 1 is zero (the special cases). */
function block(seed: number): Float64Array {
  const v = new Float64Array(R * D);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(seed * 97 + i * 13.1) * 3;
  v.fill(0, D, 2 * D);
  return v;
}

Deno.test("F64RunsOps: each operation is F64Ops on every run, bit for bit", () => {
  const a = Float64Array.of(0.7, -1.3, 2.5), s = Float64Array.of(3, 0, -0.25);
  const cases: [
    string,
    (d: Float64Array, x: Float64Array, y: Float64Array) => void,
    (
      d: Float64Array,
      x: Float64Array,
      y: Float64Array,
      r: number,
    ) => void,
  ][] = [
    ["axpy", (d, x) => ops.axpy(d, a, x), (d, x, _y, r) => one.axpy(d, a[r], x)],
    ["axpyS", (d, x) => ops.axpyS(d, a, s, x), (d, x, _y, r) => one.axpyS(d, a[r], s[r], x)],
    [
      "axpyDivS",
      (d, x) => ops.axpyDivS(d, a, s, x),
      (d, x, _y, r) => one.axpyDivS(d, a[r], s[r], x),
    ],
    ["scale", (d) => ops.scale(d, a), (d, _x, _y, r) => one.scale(d, a[r])],
    [
      "addScaled",
      (d, x, y) => ops.addScaled(d, x, a, y),
      (d, x, y, r) => one.addScaled(d, x, a[r], y),
    ],
    [
      "setNormalized",
      (d, x) => ops.setNormalized(d, x, a),
      (d, x, _y, r) => one.setNormalized(d, x, a[r]),
    ],
  ];
  for (const [name, batched, alone] of cases) {
    const d = block(1), x = block(2), y = block(3);
    const want = rows(d.slice()).map((dr, r) => {
      const out = dr.slice();
      alone(out, rows(x)[r], rows(y)[r], r);
      return Array.from(out);
    });
    batched(d, x, y);
    assertEquals(rows(d).map((v) => Array.from(v)), want, name);
  }
  const x = block(4), y = block(5);
  assertEquals(Array.from(ops.dot(x, y)), rows(x).map((v, r) => one.dot(v, rows(y)[r])));
  assertEquals(Array.from(ops.norm(x)), rows(x).map((v) => one.norm(v)));
});
