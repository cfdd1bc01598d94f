import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import {
  createF64Problem,
  type DatasetSpec,
  initialPoint,
  makeDataset,
  PROBLEM_KINDS,
  problemDim,
} from "./registry.ts";

const SPECS: DatasetSpec[] = [
  { kind: "quadratic", eigenvalues: [4, 2, 1, 0.5] },
  { kind: "two-quadratics", eigenvalues1: [1, 2], eigenvalues2: [3, 1] },
  { kind: "toy4d" },
  { kind: "sanity2d" },
  { kind: "diagnet" },
  { kind: "mlp", d: 6, hidden: 5 },
];

Deno.test("registry: every kind builds, wraps, and has a default initial point of length D", () => {
  assertEquals(SPECS.map((s) => s.kind), [...PROBLEM_KINDS]);
  for (const spec of SPECS) {
    const ds = makeDataset(spec, { seed: 1 });
    const p = createF64Problem(ds);
    assertEquals(p.kind, spec.kind);
    assertEquals(problemDim(ds), p.dim);
    assertEquals(ds.params.dim, p.dim);
    const x = initialPoint(ds, { seed: 2 });
    assertEquals(x.length, p.dim);
    assert(Number.isFinite(p.loss(x)), `${spec.kind}: finite loss at the initial point`);
  }
});

Deno.test("initialPoint: fixed defaults, seeded defaults, explicit x0", () => {
  const toy = makeDataset({ kind: "toy4d" }, { seed: 0 });
  assertEquals(Array.from(initialPoint(toy, { seed: 0 })), [1, 1, 0.3, 0.3]);
  const sanity = makeDataset({ kind: "sanity2d" }, { seed: 0 });
  assertEquals(Array.from(initialPoint(sanity, { seed: 0 })), [2, 0.3]);
  const diag = makeDataset({ kind: "diagnet" }, { seed: 0 });
  assertEquals(Array.from(initialPoint(diag, { seed: 0 })), new Array(60).fill(0.1));
  assertEquals(Array.from(initialPoint(diag, { seed: 0, scale: 0.01 })), new Array(60).fill(0.01));
  assertEquals(Array.from(initialPoint(toy, { seed: 0, x0: [0, 1, 2, 3] })), [0, 1, 2, 3]);

  const quad = makeDataset({
    kind: "quadratic",
    eigenvalues: new Array(400).fill(1),
    rotate: false,
  }, { seed: 0 });
  const xq = initialPoint(quad, { seed: 3, scale: 2 });
  // ‖N(0, I)/√D‖ ≈ 1 ± 1/√(2D); 4 standard errors.
  assert(Math.abs(Math.hypot(...xq) / 2 - 1) < 4 / Math.sqrt(800), `‖x0‖ = ${Math.hypot(...xq)}`);
  assertEquals(initialPoint(quad, { seed: 3 }), initialPoint(quad, { seed: 3 }));
  assert(initialPoint(quad, { seed: 3 }).some((v, i) => v !== initialPoint(quad, { seed: 4 })[i]));
});

Deno.test("initialPoint mlp: W ~ N(0, 1/d), b = 0, a ~ N(0, 1/h) (variances within 4 SE)", () => {
  const h = 64, d = 32;
  const ds = makeDataset({ kind: "mlp", n: 2, d, hidden: h, nTest: 0 }, { seed: 0 });
  const x = initialPoint(ds, { seed: 7 });
  const variance = (a: Float64Array) => a.reduce((s, v) => s + v * v, 0) / a.length;
  const w = x.subarray(0, h * d), b = x.subarray(h * d, h * d + h), a = x.subarray(h * d + h);
  assert(
    Math.abs(variance(w) * d - 1) < 4 * Math.sqrt(2 / (h * d)),
    `Var W·d = ${variance(w) * d}`,
  );
  assert(Math.abs(variance(a) * h - 1) < 4 * Math.sqrt(2 / h), `Var a·h = ${variance(a) * h}`);
  assert(b.every((v) => v === 0));
  const x3 = initialPoint(ds, { seed: 7, scale: 3 });
  assertClose(x3, x.map((v) => 3 * v), { rtol: 1e-15 });
});

Deno.test("registry: clear errors for unknown kinds, bad x0, bad scale, bad seed", () => {
  assertThrows(
    () => makeDataset({ kind: "cubic" } as never, { seed: 0 }),
    /makeDataset: unknown kind "cubic" \(valid kinds: quadratic, two-quadratics, toy4d, sanity2d, diagnet, mlp\)/,
  );
  assertThrows(
    () => createF64Problem({ kind: "cubic", params: {}, arrays: {}, shapes: {} }),
    /createF64Problem: unknown kind "cubic" \(valid kinds: quadratic, two-quadratics/,
  );
  assertThrows(() => makeDataset({ kind: "toy4d" }, { seed: 0.5 }), /seed must be an integer/);
  const toy = makeDataset({ kind: "toy4d" }, { seed: 0 });
  assertThrows(
    () => initialPoint(toy, { seed: 0, x0: [1, 2, 3] }),
    /RangeError: toy4d: x0 must be a list of 4 finite numbers \(got \[1,2,3\]\)/,
  );
  assertThrows(() => initialPoint(toy, { seed: 0, scale: 2 }), /toy4d: scale does not apply/);
  const quad = makeDataset({ kind: "quadratic", eigenvalues: [1] }, { seed: 0 });
  assertThrows(() => initialPoint(quad, { seed: 0, scale: -1 }), /quadratic: scale must be/);
  assertThrows(
    () => createF64Problem({ kind: "quadratic", params: {}, arrays: {}, shapes: {} }),
    /quadratic: shape of "A" must be 2 positive integers/,
  );
});
