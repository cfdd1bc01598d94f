import * as aq from "arquero";
import { assertEquals } from "../testing/assert.ts";
import { sha256Hex } from "./hash.ts";
import { publishTables, readManifest } from "./publish.ts";
import { TestProject } from "./testing/project.ts";
import type { Manifest } from "./cache.ts";

Deno.test("published CSVs parse back with arquero and match the manifest", async () => {
  const p = await TestProject.create();
  try {
    const r = await p.cli("reproduce");
    assertEquals(r.code, 0, r.err);
    const traj = aq.fromCSV(await p.table("toy", "trajectory"));
    assertEquals(traj.columnNames(), ["run", "step", "loss"]);
    assertEquals(traj.numRows(), 3 * 40);
    assertEquals(traj.groupby("run").count().numRows(), 3);
    const summary = aq.fromCSV(await p.table("toy", "summary"));
    assertEquals(summary.array("run"), ["sam-rho0.01", "sam-rho0.02", "gd"]);
    assertEquals(summary.array("rho"), [0.01, 0.02, 0]);
    const rows = await readManifest(`${p.dir}/results/manifest.csv`);
    assertEquals(rows.map((x) => x.path), [
      "toy/spectra.csv",
      "toy/summary.csv",
      "toy/trajectory.csv",
    ]);
    for (const row of rows) {
      assertEquals(row.stage, "tabulate/toy");
      assertEquals(
        row.sha256,
        await sha256Hex(await Deno.readFile(`${p.dir}/results/${row.path}`)),
      );
      assertEquals(
        (await Deno.stat(`${p.dir}/.cache/${row.key}/${row.path.slice(4)}`)).isFile,
        true,
      );
    }
  } finally {
    await p.remove();
  }
});

Deno.test("republishing drops tables an experiment no longer makes and keeps other experiments", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = async (name: string, key: string, files: Record<string, string>) => {
      const edir = `${dir}/cache/${key}`;
      await Deno.mkdir(edir, { recursive: true });
      const artifacts: Record<string, { sha256: string; bytes: number }> = {};
      for (const [rel, text] of Object.entries(files)) {
        await Deno.writeTextFile(`${edir}/${rel}`, text);
        artifacts[rel] = { sha256: await sha256Hex(text), bytes: text.length };
      }
      return {
        experiment: name,
        dir: edir,
        manifest: { id: `tabulate/${name}`, key, artifacts } as unknown as Manifest,
      };
    };
    const results = `${dir}/results`;
    await publishTables([
      await entry("a", "k1", { "x.csv": "v\n1\n", "y.csv": "w\n2\n", "meta.json": "{}" }),
    ], results);
    await publishTables([await entry("b", "k2", { "z.csv": "u\n3\n" })], results);
    await publishTables([await entry("a", "k3", { "x.csv": "v\n4\n" })], results);
    const rows = await readManifest(`${results}/manifest.csv`);
    assertEquals(rows.map((r) => [r.path, r.stage, r.key]), [
      ["a/x.csv", "tabulate/a", "k3"],
      ["b/z.csv", "tabulate/b", "k2"],
    ]);
    assertEquals((await Array.fromAsync(Deno.readDir(`${results}/a`))).map((e) => e.name), [
      "x.csv",
    ]);
    assertEquals(await Deno.readTextFile(`${results}/a/x.csv`), "v\n4\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("manifest.csv round-trips paths with commas and quotes; a foreign file reads as empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const row = { path: 'a,"b".csv', stage: "s", key: "0123", sha256: "00ff", recipe: "" };
    await Deno.writeTextFile(
      `${dir}/manifest.csv`,
      'path,stage,key,sha256,recipe\n"a,""b"".csv",s,0123,00ff,\n',
    );
    assertEquals(await readManifest(`${dir}/manifest.csv`), [row]);
    await Deno.writeTextFile(`${dir}/other.csv`, "x,y\n1,2\n");
    assertEquals(await readManifest(`${dir}/other.csv`), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
