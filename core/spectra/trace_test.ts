import { assert, assertClose, assertEquals, assertRejects } from "../../testing/assert.ts";
import { hutchinson, hutchPlusPlus, trace, traceExact } from "./trace.ts";
import type { Matvec } from "./linalg.ts";
import { denseMul, type KnownSpectrum, matrixWithSpectrum } from "./testing_oracles.ts";

function matvecOf(s: KnownSpectrum): Matvec {
  return (v, out) => denseMul(s.a, s.n, v, out);
}

/** Standard deviation of one Rademacher probe zᵀAz: √(2(‖A‖_F² − Σ A_ii²)). */
function probeSd(s: KnownSpectrum): number {
  let off = 0;
  for (let i = 0; i < s.n; i++) {
    for (let j = 0; j < s.n; j++) if (i !== j) off += s.a[i * s.n + j] ** 2;
  }
  return Math.sqrt(2 * off);
}

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

Deno.test("traceExact: equals the sum of the eigenvalues, with dim matvecs", async () => {
  const s = matrixWithSpectrum([3, -1, 0.25, 7, 0, 2], 1);
  const t = await traceExact(matvecOf(s), s.n);
  assertClose(t.estimate, sum(s.eigenvalues), { rtol: 1e-13 });
  assertEquals([t.se, t.matvecs, t.method], [0, 6, "exact"]);
});

Deno.test("hutchinson: within 3 standard errors of the trace; se matches theory and shrinks like 1/√probes", async () => {
  const eig = Array.from({ length: 40 }, (_, i) => 1 / (1 + i) + (i % 3 === 0 ? -0.2 : 0));
  const s = matrixWithSpectrum(eig, 2);
  const truth = sum(eig), sd = probeSd(s);
  const ses: number[] = [];
  for (const probes of [100, 400, 1600]) {
    const t = await hutchinson(matvecOf(s), s.n, { probes, seed: 7 });
    assertEquals(t.matvecs, probes);
    assert(
      Math.abs(t.estimate - truth) <= 3 * t.se,
      `probes ${probes}: ${t.estimate} vs ${truth} (se ${t.se})`,
    );
    // The sample sd of the probes estimates the exact per-probe sd (relative error ~ 1/√(2·probes)·√kurtosis).
    assertClose(t.se * Math.sqrt(probes), sd, { rtol: 0.2 });
    ses.push(t.se);
  }
  assertClose(ses[0] / ses[2], 4, { rtol: 0.2 });
});

Deno.test("hutchinson: a diagonal matrix is traced exactly by every Rademacher probe", async () => {
  const d = [1, 2, 3, 4.5];
  const t = await hutchinson((v, out) => d.forEach((x, i) => out[i] = x * v[i]), 4, { probes: 5 });
  assertClose(t.estimate, 10.5, { rtol: 1e-15 });
  assertClose(t.se, 0, { atol: 1e-15 });
});

Deno.test("hutchPlusPlus: within 3 se; exact on low rank; lower se than Hutchinson on a decaying spectrum", async () => {
  const n = 80;
  const lowRank = matrixWithSpectrum([9, 5, 3, ...new Array(n - 3).fill(0)], 3);
  const exactish = await hutchPlusPlus(matvecOf(lowRank), n, { probes: 30, seed: 1 });
  assertClose(exactish.estimate, 17, { rtol: 1e-12 });
  assert(exactish.se < 1e-12, `se ${exactish.se}`);
  assertEquals(exactish.matvecs, 30);

  const eig = Array.from({ length: n }, (_, i) => 10 * Math.exp(-i / 4) + 0.01 * (i % 5));
  const s = matrixWithSpectrum(eig, 4);
  const truth = sum(eig);
  const pp = await hutchPlusPlus(matvecOf(s), n, { probes: 60, seed: 5 });
  const h = await hutchinson(matvecOf(s), n, { probes: 60, seed: 5 });
  assert(Math.abs(pp.estimate - truth) <= 3 * pp.se, `${pp.estimate} vs ${truth} (se ${pp.se})`);
  assert(Math.abs(h.estimate - truth) <= 3 * h.se, `${h.estimate} vs ${truth} (se ${h.se})`);
  assert(pp.se < h.se / 5, `Hutch++ se ${pp.se} vs Hutchinson ${h.se}`);
});

Deno.test("trace: picks exact up to exactUpTo, else the chosen estimator", async () => {
  const s = matrixWithSpectrum(Array.from({ length: 10 }, (_, i) => i), 6);
  assertEquals((await trace(matvecOf(s), 10, { exactUpTo: 10 })).method, "exact");
  assertEquals((await trace(matvecOf(s), 10, { exactUpTo: 9 })).method, "hutch++");
  const h = await trace(matvecOf(s), 10, { exactUpTo: 0, method: "hutchinson", probes: 8 });
  assertEquals([h.method, h.matvecs], ["hutchinson", 8]);
  await assertRejects(() => hutchPlusPlus(matvecOf(s), 10, { probes: 2 }), /probes ≥ 3/);
});
