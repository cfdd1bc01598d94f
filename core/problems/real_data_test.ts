import { assert, assertClose, assertEquals, assertThrows } from "../../testing/assert.ts";
import { loadCarsRows, loadIrisRows } from "../../data/real_datasets.ts";
import { createF64Problem, makeDataset } from "./registry.ts";
import type { Dataset } from "./types.ts";

const cars = await loadCarsRows(), iris = await loadIrisRows();

/** Column means and population standard deviations of a row-major n×d array. */
function columnStats(z: Float64Array, n: number, d: number): { mean: number[]; std: number[] } {
  const mean = Array.from({ length: d }, (_, c) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += z[k * d + c];
    return s / n;
  });
  const std = mean.map((m, c) => {
    let s = 0;
    for (let k = 0; k < n; k++) s += (z[k * d + c] - m) ** 2;
    return Math.sqrt(s / n);
  });
  return { mean, std };
}

/** Rows of the data set mapped back to raw units, as sorted strings (a multiset to compare). */
function rawRows(ds: Dataset, zName: string, yName: string): string[] {
  const p = ds.params as Record<string, number & number[]>;
  const z = ds.arrays[zName], y = ds.arrays[yName], d = p.d;
  const out: string[] = [];
  for (let k = 0; k < y.length; k++) {
    const row = Array.from(
      { length: d },
      (_, c) => z[k * d + c] * p.featureStd[c] + p.featureMean[c],
    );
    row.push(y[k] * p.targetStd + p.targetMean);
    out.push(row.map((v) => v.toFixed(6)).join(","));
  }
  return out.sort();
}

Deno.test("mlp cars: 392 complete rows split n / rest, standardized on the training rows", () => {
  const ds = makeDataset({ kind: "mlp", source: "cars", hidden: 8 }, { seed: 3, rows: cars });
  assertEquals(ds.shapes, { z: [64, 6], y: [64], zTest: [328, 6], yTest: [328] });
  assertEquals([ds.params.rowsUsable, ds.params.rowsDropped], [392, 14]);
  const { mean, std } = columnStats(ds.arrays.z, 64, 6);
  assertClose(mean, new Array(6).fill(0), { atol: 1e-14 });
  assertClose(std, new Array(6).fill(1), { rtol: 1e-13 });
  const ys = columnStats(ds.arrays.y, 64, 1);
  assertClose([ys.mean[0], ys.std[0]], [0, 1], { rtol: 1e-13, atol: 1e-14 });
  // Train ∪ test, mapped back to raw units, is exactly the set of complete raw rows.
  const expected = cars.rows
    .filter((r) =>
      [
        r.Miles_per_Gallon,
        r.Cylinders,
        r.Displacement,
        r.Horsepower,
        r.Weight_in_lbs,
        r.Acceleration,
      ]
        .every((v) => v !== null)
    )
    .map((r) =>
      [
        r.Cylinders!,
        r.Displacement!,
        r.Horsepower!,
        r.Weight_in_lbs!,
        r.Acceleration!,
        Number(r.Year!.slice(0, 4)),
        r.Miles_per_Gallon!,
      ].map((v) => v.toFixed(6)).join(",")
    )
    .sort();
  assertEquals([...rawRows(ds, "z", "y"), ...rawRows(ds, "zTest", "yTest")].sort(), expected);
  assertEquals(ds.provenance?.package, "vega-datasets@3.2.1");
  assertEquals(ds.provenance?.license, "BSD-3-Clause");
  const p = createF64Problem(ds);
  assertEquals([p.dim, p.numSamples], [8 * 8, 64]);
  assert(Number.isFinite(p.testLoss!(new Float64Array(p.dim).fill(0.1))));
});

Deno.test("mlp iris: versicolor −1 vs virginica +1, seeded split, MIT provenance", () => {
  const ds = makeDataset(
    { kind: "mlp", source: "iris", n: 40, nTest: 30 },
    { seed: 5, rows: iris },
  );
  assertEquals(ds.shapes, { z: [40, 4], y: [40], zTest: [30, 4], yTest: [30] });
  assert([...ds.arrays.y, ...ds.arrays.yTest].every((v) => v === 1 || v === -1));
  const pos = ds.arrays.y.filter((v) => v === 1).length;
  assert(pos > 5 && pos < 35, `both classes in training (${pos} of 40 positive)`);
  const all = makeDataset({ kind: "mlp", source: "iris", n: 60 }, { seed: 5, rows: iris });
  assertEquals(all.shapes.yTest, [40]);
  const labels = [...all.arrays.y, ...all.arrays.yTest];
  assertEquals(labels.filter((v) => v === 1).length, 50);
  // Raw iris rows 50..149 (versicolor, virginica) come back from the standardized arrays.
  const expected = iris.rows.slice(50).map((r) =>
    [r[0], r[1], r[2], r[3], r[4] === "virginica" ? 1 : -1].map((v) => v.toFixed(6)).join(",")
  ).sort();
  assertEquals([...rawRows(all, "z", "y"), ...rawRows(all, "zTest", "yTest")].sort(), expected);
  assertEquals(ds.provenance?.license, "MIT");
});

Deno.test("mlp real data: deterministic per seed; bad n, missing or mismatched rows are RangeErrors", () => {
  const spec = { kind: "mlp" as const, source: "cars" as const, n: 20 };
  const a = makeDataset(spec, { seed: 1, rows: cars }),
    b = makeDataset(spec, { seed: 1, rows: cars });
  const c = makeDataset(spec, { seed: 2, rows: cars });
  assertEquals(a, b);
  assert(a.arrays.y.some((v, i) => v !== c.arrays.y[i]));
  assertThrows(() => makeDataset(spec, { seed: 1 }), /mlp: source "cars" needs opts.rows/);
  assertThrows(
    () => makeDataset(spec, { seed: 1, rows: iris }),
    /mlp: source "cars" needs the cars rows \(got "iris"\)/,
  );
  assertThrows(
    () => makeDataset({ ...spec, n: 393 }, { seed: 1, rows: cars }),
    /mlp: n must be ≤ 392/,
  );
  assertThrows(
    () => makeDataset({ ...spec, d: 3 } as never, { seed: 1, rows: cars }),
    /mlp: unknown field "d"/,
  );
});
