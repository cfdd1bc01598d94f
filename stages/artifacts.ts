/**
 * Reading and writing the files stages exchange. Formats (documented in README.md):
 * - `*.json`: UTF-8 JSON (numbers round-trip float64 exactly);
 * - `*.csv`: RFC 4180 CSV with a header row, written and read with arquero; a missing value is an
 *   empty field, NaN is written `NaN` (only where a computation produced it);
 * - `*.parquet`: the same table with the codebook's column types (stages/codebook.ts), missing
 *   values as nulls, written with hyparquet-writer (snappy);
 * - `checkpoints.f64`: parameter vectors as raw little-endian float64, one after another, described
 *   by `checkpoints.json` ({ dim, steps }).
 *
 * The files of a group computed together (a sweep entry, pipeline/pack.ts) hold every member's
 * part: a table is an Arrow IPC stream `<stem>.arrow` (where an instance of its own has
 * `<stem>.csv`) with a leading int32 `member` column (the member's position in the group, rows in
 * member order) and float64 number columns (exact; NaN and missing values kept apart), which is
 * read back as columns where a group's CSV cost a parse of every field; `checkpoints.json` lists each member's steps (`steps: [[…], …]`, their vectors back to
 * back in `checkpoints.f64` in member order) and `meta.json` holds what the members share plus
 * `members: [{…}, …]`, each member's own fields. The readers here give a member its part as an
 * instance of its own would have it, so a downstream stage never sees the difference.
 * @module
 */
import * as aq from "arquero";
import { float64, int32 } from "@uwdata/flechette";
import { parquetWriteBuffer } from "hyparquet-writer";
import { type ColumnDef, columnDef } from "./codebook.ts";
import type { Dataset } from "../core/problems/types.ts";
import type { InputArtifact, StageContext } from "../pipeline/stage.ts";
import {
  artifactBytes,
  readArtifact,
  readArtifactsText,
  readArtifactText,
} from "../pipeline/pack.ts";

/** Where artifacts are written: a stage's context (`ctx.write`). */
export type Sink = Pick<StageContext, "write">;

/** Writes a value as pretty JSON. */
export async function writeJson(out: Sink, name: string, value: unknown): Promise<void> {
  await out.write(name, JSON.stringify(value, null, 1) + "\n");
}

/** Reads a JSON artifact of an upstream instance (for a group's member, the group's file). */
export async function readJson<T>(a: InputArtifact, name: string): Promise<T> {
  return JSON.parse(await readArtifactText(a, name)) as T;
}

/** A group's `meta.json`: the members' shared fields and each one's own. */
interface GroupMeta {
  readonly members: readonly Record<string, unknown>[];
  readonly [shared: string]: unknown;
}

/** A member's meta: its group's shared fields with its own. */
function memberMeta<T>(group: GroupMeta, a: InputArtifact): T {
  const { members, ...rest } = group;
  const own = members?.[a.member!];
  if (own === undefined) {
    throw new Error(`${a.id}: its group's meta.json has no member ${a.member}`);
  }
  return { ...rest, ...own } as T;
}

/** The `meta.json` of each upstream instance, each group's file parsed once. */
export async function readMetas<T>(as: readonly InputArtifact[]): Promise<T[]> {
  const texts = await readArtifactsText(as, "meta.json");
  const parsed = new Map<string, GroupMeta>();
  return as.map((a, i) => {
    if (a.member === undefined) return JSON.parse(texts[i]) as T;
    let group = parsed.get(a.pack!.path);
    if (group === undefined) parsed.set(a.pack!.path, group = JSON.parse(texts[i]) as GroupMeta);
    return memberMeta<T>(group, a);
  });
}

/** The `meta.json` of one upstream instance ({@linkcode readMetas}). */
export async function readMeta<T>(a: InputArtifact): Promise<T> {
  const meta = JSON.parse(await readArtifactText(a, "meta.json"));
  return a.member === undefined ? meta as T : memberMeta<T>(meta as GroupMeta, a);
}

/** Writes rows (objects with the same keys) as CSV through arquero. */
export async function writeCsv(out: Sink, name: string, table: aq.ColumnTable): Promise<void> {
  const csv = table.toCSV();
  await out.write(name, csv.endsWith("\n") ? csv : csv + "\n");
}

/**
 * Writes a group's table (leading `member` column) as `<stem>.arrow`: `member` int32, columns of
 * numbers (and nulls) float64, others as arquero infers them.
 */
export async function writeGroupTable(
  out: Sink,
  stem: string,
  table: aq.ColumnTable,
): Promise<void> {
  const types: Record<string, ReturnType<typeof int32> | ReturnType<typeof float64>> = {};
  for (const c of table.columnNames()) {
    const values = table.array(c) as ArrayLike<unknown>;
    let numbers = true;
    for (let i = 0; i < values.length && numbers; i++) {
      const v = values[i];
      numbers = v === null || v === undefined || typeof v === "number";
    }
    if (c === "member") types[c] = int32();
    else if (numbers) types[c] = float64();
  }
  await out.write(`${stem}.arrow`, aq.toArrowIPC(table, { types }));
}

/** The Parquet physical/logical type of a codebook type. */
const PARQUET_TYPE = {
  string: "STRING",
  integer: "INT64",
  number: "DOUBLE",
  boolean: "BOOLEAN",
} as const;

/** A cell as the Parquet column of a type takes it (null when missing or not of that type). */
function parquetValue(v: unknown, type: ColumnDef["type"]): unknown {
  if (v === null || v === undefined || v === "") return null;
  switch (type) {
    case "string":
      return typeof v === "string"
        ? v
        : typeof v === "number" || typeof v === "boolean"
        ? String(v)
        : JSON.stringify(v);
    case "integer":
      return typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : null;
    case "number":
      return typeof v === "number" ? v : typeof v === "string" ? Number(v) : null;
    case "boolean":
      return typeof v === "boolean" ? v : null;
  }
}

/**
 * Writes a table as `<stem>.csv` and `<stem>.parquet` (same rows, same columns; the Parquet
 * columns typed by the codebook) and returns the column definitions used. An integer column
 * holding a non-integer value is written as a float64 column and described so.
 */
export async function writeTable(
  out: Sink,
  stem: string,
  table: aq.ColumnTable,
): Promise<ColumnDef[]> {
  await writeCsv(out, `${stem}.csv`, table);
  const defs: ColumnDef[] = [];
  const columnData = table.columnNames().map((name) => {
    const values = table.array(name) as ArrayLike<unknown>;
    let def = columnDef(name, values);
    if (def.type === "integer") {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined && v !== "" && !Number.isSafeInteger(v)) {
          def = { ...def, type: "number" };
          break;
        }
      }
    }
    defs.push(def);
    const data = new Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = parquetValue(values[i], def.type);
    return { name, data, type: PARQUET_TYPE[def.type] };
  });
  const buffer = parquetWriteBuffer({ columnData, createdBy: "sam-sharpness (hyparquet-writer)" });
  await out.write(`${stem}.parquet`, new Uint8Array(buffer));
  return defs;
}

/**
 * Reads a CSV artifact into an arquero table (numbers parsed as numbers); for a group's member, its
 * rows of the group's `<stem>.arrow`.
 */
export async function readCsv(a: InputArtifact, name: string): Promise<aq.ColumnTable> {
  if (a.member === undefined) return aq.fromCSV(await readArtifactText(a, name));
  return ownTable((await readCsvRows([a], name))[0]);
}

/**
 * Each upstream instance's rows of CSV artifact `name`, as {@linkcode readCsv} reads them, without
 * a parse per instance: a group's `<stem>.arrow` is read once for all its members, and the CSVs of
 * instances with their own are parsed together where their headers agree ({@linkcode parseCsvs}).
 */
export async function readCsvRows(as: readonly InputArtifact[], name: string): Promise<Rows[]> {
  const own = as.flatMap((a, i) => a.member === undefined ? [i] : []);
  const texts = await readArtifactsText(own.map((i) => as[i]), name);
  const out: Rows[] = new Array(as.length);
  parseCsvs(texts).forEach((r, k) => out[own[k]] = r);
  const arrow = `${name.replace(/\.csv$/, "")}.arrow`;
  const groups = new Map<string, { table: aq.ColumnTable; at: Map<number, [number, number]> }>();
  for (const [i, a] of as.entries()) {
    if (a.member === undefined) continue;
    let g = groups.get(a.pack!.path);
    if (g === undefined) {
      const all = aq.fromArrow(await readArtifact(a, arrow));
      if (all.columnNames()[0] !== "member") {
        throw new Error(`${a.id}: its group's ${arrow} has no leading member column`);
      }
      const members = all.array("member") as ArrayLike<number>;
      const at = new Map<number, [number, number]>();
      for (let r = 0; r < members.length;) {
        let e = r + 1;
        while (e < members.length && members[e] === members[r]) e++;
        if (at.has(members[r])) {
          throw new Error(`${a.id}: its group's ${arrow} is not in member order`);
        }
        at.set(members[r], [r, e - r]);
        r = e;
      }
      g = { table: all.select(aq.not("member")), at };
      groups.set(a.pack!.path, g);
    }
    const [start, rows] = g.at.get(a.member) ?? [0, 0];
    out[i] = { table: g.table, start, rows };
  }
  return out;
}

/** One input's rows in a parsed table: rows `start` … `start + rows − 1` of `table`. */
export interface Rows {
  readonly table: aq.ColumnTable;
  readonly start: number;
  readonly rows: number;
}

/**
 * Each text's CSV rows, as `aq.fromCSV` reads the text alone: a stretch of consecutive texts with
 * the same header and no quoted field is parsed as one table (a parse per run would dominate a
 * sweep of small runs), whose rows each text then names without copying them.
 */
function parseCsvs(texts: readonly string[]): Rows[] {
  const out: Rows[] = new Array(texts.length);
  for (let i = 0; i < texts.length;) {
    const head = texts[i].slice(0, texts[i].indexOf("\n") + 1);
    const whole = (t: string) =>
      head !== "" && t.startsWith(head) && t.endsWith("\n") &&
      !t.includes('"');
    if (!whole(texts[i])) {
      const table = aq.fromCSV(texts[i]);
      out[i] = { table, start: 0, rows: table.numRows() };
      i++;
      continue;
    }
    let j = i + 1;
    while (j < texts.length && whole(texts[j])) j++;
    const bodies = texts.slice(i, j).map((t) => t.slice(head.length));
    const table = aq.fromCSV(head + bodies.join(""));
    let at = 0;
    bodies.forEach((b, k) => {
      let rows = 0;
      for (let c = b.indexOf("\n"); c >= 0; c = b.indexOf("\n", c + 1)) rows++;
      out[i + k] = { table, start: at, rows };
      at += rows;
    });
    i = j;
  }
  return out;
}

/** The rows as a table of their own. */
export function ownTable(r: Rows): aq.ColumnTable {
  return r.start === 0 && r.rows === r.table.numRows()
    ? r.table
    : r.table.slice(r.start, r.start + r.rows).reify();
}

/** Serializes a data set: arrays as plain number lists. */
export async function writeDataset(out: Sink, ds: Dataset): Promise<void> {
  const arrays = Object.fromEntries(Object.entries(ds.arrays).map(([k, v]) => [k, Array.from(v)]));
  await writeJson(out, "dataset.json", { ...ds, arrays });
}

/** Reads the data set of the (single) upstream dataset artifact. */
export async function readDataset(
  inputs: Readonly<Record<string, InputArtifact[]>>,
): Promise<Dataset> {
  const raw = await readJson<Dataset & { arrays: Record<string, number[]> }>(
    single(inputs, "dataset"),
    "dataset.json",
  );
  const arrays = Object.fromEntries(
    Object.entries(raw.arrays).map(([k, v]) => [k, Float64Array.from(v)]),
  );
  return { ...raw, arrays };
}

/** The one input of a role that must have exactly one. */
export function single(
  inputs: Readonly<Record<string, InputArtifact[]>>,
  role: string,
): InputArtifact {
  const list = inputs[role] ?? [];
  if (list.length !== 1) throw new Error(`expected one '${role}' input, got ${list.length}`);
  return list[0];
}

/** Writes checkpoints as raw little-endian float64 plus their JSON header. */
export async function writeCheckpoints(
  out: Sink,
  checkpoints: readonly { step: number; params: Float64Array }[],
): Promise<void> {
  const dim = checkpoints[0]?.params.length ?? 0;
  const buf = new ArrayBuffer(8 * dim * checkpoints.length);
  const view = new DataView(buf);
  checkpoints.forEach((c, j) =>
    c.params.forEach((v, i) => view.setFloat64(8 * (j * dim + i), v, true))
  );
  await out.write("checkpoints.f64", new Uint8Array(buf));
  await writeJson(out, "checkpoints.json", { dim, steps: checkpoints.map((c) => c.step) });
}

/**
 * Writes the checkpoints of a group's members (in member order) as one `checkpoints.f64` and a
 * `checkpoints.json` listing each member's steps.
 */
export async function writeGroupCheckpoints(
  out: Sink,
  members: readonly (readonly { step: number; params: Float64Array }[])[],
): Promise<void> {
  const dim = members.find((m) => m.length > 0)?.[0].params.length ?? 0;
  const count = members.reduce((n, m) => n + m.length, 0);
  const all = new Float64Array(dim * count);
  let at = 0;
  for (const m of members) {
    for (const c of m) {
      all.set(c.params, at);
      at += dim;
    }
  }
  await out.write("checkpoints.f64", littleEndian(all));
  await writeJson(out, "checkpoints.json", {
    dim,
    steps: members.map((m) => m.map((c) => c.step)),
  });
}

/** A float64 array's bytes, little-endian whatever the platform. */
function littleEndian(values: Float64Array): Uint8Array {
  const buf = new ArrayBuffer(8 * values.length);
  const view = new DataView(buf);
  values.forEach((v, i) => view.setFloat64(8 * i, v, true));
  return new Uint8Array(buf);
}

/** Reads checkpoints written by `writeCheckpoints` (for a group's member, its own). */
export async function readCheckpoints(
  a: InputArtifact,
): Promise<{ step: number; params: Float64Array }[]> {
  const header = await readJson<{ dim: number; steps: number[] | number[][] }>(
    a,
    "checkpoints.json",
  );
  const { dim } = header;
  // A member's steps and the vectors before its own (the group's in member order).
  let steps = header.steps as number[], first = 0, total = steps.length;
  if (a.member !== undefined) {
    const lists = header.steps as number[][];
    if (!Array.isArray(lists[a.member])) {
      throw new Error(`${a.id}: its group's checkpoints.json has no member ${a.member}`);
    }
    for (let m = 0; m < a.member; m++) first += lists[m].length;
    steps = lists[a.member];
    total = lists.reduce((n, l) => n + l.length, 0);
  }
  const size = await artifactBytes(a, "checkpoints.f64");
  if (size !== 8 * dim * total) {
    throw new Error(`${a.id}'s checkpoints.f64: ${size} bytes, expected ${8 * dim * total}`);
  }
  const bytes = await readArtifact(a, "checkpoints.f64", {
    start: 8 * dim * first,
    bytes: 8 * dim * steps.length,
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return steps.map((step, j) => {
    const params = new Float64Array(dim);
    const at = 8 * j * dim;
    for (let i = 0; i < dim; i++) params[i] = view.getFloat64(at + 8 * i, true);
    return { step, params };
  });
}
