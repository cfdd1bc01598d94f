import { PackWriter, writeToDir } from "../pipeline/pack.ts";
import type { InputArtifact } from "../pipeline/stage.ts";
import * as aq from "arquero";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { assert, assertEquals, assertRejects } from "../testing/assert.ts";
import {
  ownTable,
  readCheckpoints,
  readCsv,
  readCsvRows,
  readMeta,
  readMetas,
  writeGroupCheckpoints,
  writeGroupTable,
  writeJson,
  writeTable,
} from "./artifacts.ts";

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

/** Writes files through a group's pack in `dir` and returns its members as a reader sees them. */
async function groupOf(
  dir: string,
  members: number,
  write: (out: { write(name: string, data: string | Uint8Array): Promise<void> }) => Promise<void>,
): Promise<InputArtifact[]> {
  const pack = new PackWriter();
  await write({ write: (name, data) => Promise.resolve(pack.add(name, data)) });
  const index = await pack.write(`${dir}/pack`);
  const files = Object.fromEntries(
    Object.entries(index).map(([n, f]) => [n, { offset: f.offset, bytes: f.bytes }]),
  );
  return Array.from({ length: members }, (_, m) => ({
    id: `train/x/r${m}`,
    key: `k${m}`,
    dir,
    params: {},
    pack: { path: `${dir}/pack`, files },
    member: m,
  }));
}

Deno.test("a group's files give each member the part an instance of its own reads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Per-member tables as each run alone would write them: NaN, missing values, a member with
    // no rows, and a column only one member has.
    const alone = [
      { step: [0, 1, 10], loss: [0.5, NaN, 1e-300], x1: [1, 2, 3], x2: [0.25, null, -0] },
      { step: [], loss: [], x1: [], x2: [] },
      { step: [0, 5], loss: [1e21, 2], x1: [-1, 0.1 + 0.2], x2: [null, null] },
    ].map((cols) => aq.table(cols));
    const checkpoints = [
      [{ step: 0, params: Float64Array.of(1, 2) }, {
        step: 10,
        params: Float64Array.of(Math.PI, -0),
      }],
      [],
      [{ step: 5, params: Float64Array.of(Number.MIN_VALUE, 1e308) }],
    ];
    const member = aq.table({
      member: alone.flatMap((t, m) => Array(t.numRows()).fill(m)),
    });
    const all = member.assign(alone[0].concat(alone[1], alone[2]));
    const inputs = await groupOf(dir, 3, async (out) => {
      await writeGroupTable(out, "trajectory", all);
      await writeGroupCheckpoints(out, checkpoints);
      await writeJson(out, "meta.json", {
        dim: 2,
        members: [{ diverged: null }, { diverged: "at step 1" }, { diverged: null }],
      });
    });
    const rows = await readCsvRows(inputs, "trajectory.csv");
    for (const [m, t] of alone.entries()) {
      const own = ownTable(rows[m]);
      assertEquals(own.toCSV(), t.toCSV(), `member ${m}`);
      assertEquals((await readCsv(inputs[m], "trajectory.csv")).toCSV(), t.toCSV());
      if (m === 0) assert(Number.isNaN(own.get("loss", 1)) && own.get("x2", 1) === null);
      const mine = await readCheckpoints(inputs[m]);
      assertEquals(
        mine.map((c) => [c.step, [...c.params]]),
        checkpoints[m].map((c) => [c.step, [...c.params]]),
      );
    }
    assert(Object.is((await readCheckpoints(inputs[0]))[1].params[1], -0), "−0 kept");
    assertEquals(
      (await readMetas<Record<string, unknown>>(inputs)).map((m) => [m.dim, m.diverged]),
      [[2, null], [2, "at step 1"], [2, null]],
    );
    assertEquals(await readMeta(inputs[1]), { dim: 2, diverged: "at step 1" });
    const outside = { ...inputs[0], member: 3 };
    await assertRejects(() => readMeta(outside), /its group's meta\.json has no member 3/);
    await assertRejects(
      () => readCheckpoints(outside),
      /its group's checkpoints\.json has no member 3/,
    );
    assertEquals(ownTable((await readCsvRows([outside], "trajectory.csv"))[0]).numRows(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a group's table out of member order, or without its member column, is an error naming the run", async () => {
  for (
    const [cols, message] of [
      [
        { member: [0, 1, 0], step: [0, 0, 1] },
        /train\/x\/r0: its group's trajectory\.arrow is not in member order/,
      ],
      [
        { step: [0, 1] },
        /train\/x\/r0: its group's trajectory\.arrow has no leading member column/,
      ],
    ] as const
  ) {
    const dir = await Deno.makeTempDir();
    try {
      const inputs = await groupOf(
        dir,
        2,
        (out) => writeGroupTable(out, "trajectory", aq.table(cols)),
      );
      await assertRejects(() => readCsvRows(inputs, "trajectory.csv"), message);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
