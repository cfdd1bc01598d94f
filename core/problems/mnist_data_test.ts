import { assert, assertClose, assertEquals } from "../../testing/assert.ts";
import { mnistDataset, type MnistRows } from "./mnist_data.ts";
import type { MlpSpec } from "./mlp.ts";

/** 40 synthetic 28×28 "digits": image i has value (i mod 7)/7 + pixel/784/7 at every pixel. */
function fakeRows(): MnistRows {
  const count = 40, images = new Float64Array(count * 784), labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 10;
    for (let p = 0; p < 784; p++) images[i * 784 + p] = (i % 7) / 7 + p / 784 / 7;
  }
  return { name: "mnist", images, labels, provenance: { package: "fake" } };
}

const spec = (extra: Record<string, unknown>) =>
  ({ kind: "mlp", source: "mnist", hidden: 4, ...extra }) as unknown as MlpSpec;

Deno.test("mnistDataset: parity targets, seeded splits, d = (28/s)²", () => {
  const rows = fakeRows();
  const ds = mnistDataset(spec({ n: 10, nTest: 12, downsample: 4 }), rows, 3);
  assertEquals(ds.shapes, { z: [10, 49], y: [10], zTest: [12, 49], yTest: [12] });
  assertEquals(ds.params.dim, 4 * 51);
  for (const v of [...ds.arrays.y, ...ds.arrays.yTest]) assert(v === 1 || v === -1);
  // Standardization: training columns have mean 0 and the mean squared feature is 1.
  const z = ds.arrays.z;
  let ss = 0;
  for (let c = 0; c < 49; c++) {
    let m = 0;
    for (let r = 0; r < 10; r++) m += z[r * 49 + c] / 10;
    assertClose(m, 0, { atol: 1e-12 });
  }
  for (const v of z) ss += v * v;
  assertClose(ss / z.length, 1, { rtol: 1e-12 });
  // The same seed gives the same split, another seed another.
  assertEquals(mnistDataset(spec({ n: 10, nTest: 12, downsample: 4 }), rows, 3).arrays.z, z);
  const other = mnistDataset(spec({ n: 10, nTest: 12, downsample: 4 }), rows, 4).arrays.z;
  assert(other.some((v, i) => v !== z[i]));
});

Deno.test("mnistDataset: block averages by hand and digit pairs as -1/+1", () => {
  const rows = fakeRows();
  // Digits 3 (−1) and 8 (+1): 8 images. Block (0,0) of s = 2 averages pixels 0, 1, 28, 29.
  const ds = mnistDataset(spec({ n: 8, nTest: 0, classes: [3, 8], downsample: 2 }), rows, 0);
  assertEquals(ds.shapes.z, [8, 196]);
  assertEquals(ds.arrays.zTest, undefined);
  assertEquals([...ds.arrays.y].sort(), [-1, -1, -1, -1, 1, 1, 1, 1]);
  // Undo the standardization on column 0: raw = mean + scale·z, and the raw block average of
  // image i is (i mod 7)/7 + (0 + 1 + 28 + 29)/4/784/7.
  const scale = ds.params.inputScale as number;
  const raw0 = Array.from({ length: 8 }, (_, r) => ds.arrays.z[r * 196] * scale);
  const spread = Math.max(...raw0) - Math.min(...raw0);
  const images = [3, 8, 13, 18, 23, 28, 33, 38].map((i) => (i % 7) / 7);
  assertClose(spread, Math.max(...images) - Math.min(...images), { rtol: 1e-12 });
});

Deno.test("mnistDataset: bad fields are one-line RangeErrors", () => {
  const rows = fakeRows();
  for (
    const [extra, message] of [
      [{ classes: [3, 3] }, "classes must be"],
      [{ classes: "odd" }, "classes must be"],
      [{ downsample: 3 }, "downsample must be 1, 2 or 4"],
      [{ n: 41 }, "n must be ≤ 40"],
      [{ n: 30, nTest: 11 }, "nTest must be ≤ 10"],
      [{ d: 5 }, "unknown"],
    ] as const
  ) {
    let error: unknown;
    try {
      mnistDataset(spec(extra), rows, 0);
    } catch (e) {
      error = e;
    }
    assert(error instanceof RangeError, `${JSON.stringify(extra)} did not throw a RangeError`);
    assert(error.message.includes(message), error.message);
    assert(!error.message.includes("\n"));
  }
});
