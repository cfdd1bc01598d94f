import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { columns, segments } from "./columns.ts";
import { createTfEngine } from "./tfjs.ts";

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`columns on ${backend}: the column block of every row, as tf.slice; no leaks`, async () => {
    await createTfEngine(backend);
    const rows = 3, cols = 7;
    const x = tf.tensor2d(Float32Array.from({ length: rows * cols }, (_, i) => i * 0.5), [
      rows,
      cols,
    ]);
    const before = tf.memory().numTensors;
    for (const [begin, size] of [[0, 7], [0, 3], [2, 4], [6, 1], [4, 0]]) {
      const got = columns(x, begin, size);
      assertEquals(got.shape, [rows, size]);
      const want = Array.from(
        { length: rows * size },
        (_, i) => (Math.floor(i / size) * cols + begin + (i % size)) * 0.5,
      );
      assertEquals(Array.from(await got.data()), want, `${begin} + ${size}`);
      got.dispose();
    }
    assertEquals(tf.memory().numTensors, before, "no tensors left behind");
    assertThrows(() => columns(x, 5, 3), /^RangeError: columns 5 \+ 3 out of range for 7 columns$/);
    x.dispose();
  });
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`segments on ${backend}: consecutive blocks of a vector as matrices; no leaks`, async () => {
    await createTfEngine(backend);
    const x = tf.tensor1d(Float32Array.from({ length: 11 }, (_, i) => i + 0.25));
    const before = tf.memory().numTensors;
    const parts = segments(x, [[2, 3], [1, 0], [4, 1]]);
    assertEquals(parts.map((p) => p.shape), [[2, 3], [1, 0], [4, 1]]);
    assertEquals(
      await Promise.all(parts.map(async (p) => Array.from(await p.data()))),
      [[0, 1, 2, 3, 4, 5].map((i) => i + 0.25), [], [6, 7, 8, 9].map((i) => i + 0.25)],
    );
    tf.dispose(parts);
    assertEquals(tf.memory().numTensors, before, "no tensors left behind");
    assertThrows(
      () => segments(x, [[3, 4]]),
      /^RangeError: segments of 12 values out of range for 11$/,
    );
    assertThrows(() => segments(x, [[1.5, 2]]), /^RangeError: segments: shapes/);
    x.dispose();
  });
}
