import * as tf from "@tensorflow/tfjs";
import { assertEquals, assertThrows } from "../../testing/assert.ts";
import { columns } from "./columns.ts";
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
