import { writeToDir } from "../pipeline/pack.ts";
import * as aq from "arquero";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { assert, assertEquals } from "../testing/assert.ts";
import { writeTable } from "./artifacts.ts";

Deno.test("writeTable: CSV with empty = missing and NaN kept; Parquet typed by the codebook", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const table = aq.table({
      run: ["a", "b", "c"],
      batch: [null, null, null], // all missing: still an integer column
      seed: [0, 1, 2],
      step: [0, 10, 3_000_000_000],
      value: [1.5, NaN, null],
      diverged: [null, "diverged at step 3", null],
      custom: [true, false, null],
    });
    const defs = await writeTable({ write: writeToDir(dir) }, "t", table);
    assertEquals(defs.map((d) => [d.name, d.type]), [
      ["run", "string"],
      ["batch", "integer"],
      ["seed", "integer"],
      ["step", "integer"],
      ["value", "number"],
      ["diverged", "string"],
      ["custom", "boolean"],
    ]);
    const csv = await Deno.readTextFile(`${dir}/t.csv`);
    assertEquals(csv.split("\n").slice(0, 3), [
      "run,batch,seed,step,value,diverged,custom",
      "a,,0,0,1.5,,true",
      "b,,1,10,NaN,diverged at step 3,false",
    ]);
    // An independent reader (hyparquet) sees the same rows with the declared physical types.
    const bytes = await Deno.readFile(`${dir}/t.parquet`);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const schema = parquetMetadata(file).schema.slice(1);
    assertEquals(schema.map((s) => [s.name, s.type]), [
      ["run", "BYTE_ARRAY"],
      ["batch", "INT64"],
      ["seed", "INT64"],
      ["step", "INT64"],
      ["value", "DOUBLE"],
      ["diverged", "BYTE_ARRAY"],
      ["custom", "BOOLEAN"],
    ]);
    const rows = await parquetReadObjects({ file });
    assertEquals(rows.length, 3);
    assertEquals(rows[0].batch, null);
    assertEquals(rows[2].step, 3_000_000_000n);
    assert(Number.isNaN(rows[1].value), "NaN stays NaN");
    assertEquals(rows[2].value, null, "missing is null, not NaN");
    assertEquals(rows.map((r) => r.diverged), [null, "diverged at step 3", null]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeTable: a codebook integer column holding a fraction is written as float64", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const defs = await writeTable({ write: writeToDir(dir) }, "t", aq.table({ seed: [0, 0.5] }));
    assertEquals(defs[0].type, "number");
    const bytes = await Deno.readFile(`${dir}/t.parquet`);
    const rows = await parquetReadObjects({ file: bytes.buffer as ArrayBuffer });
    assertEquals(rows.map((r) => r.seed), [0, 0.5]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
