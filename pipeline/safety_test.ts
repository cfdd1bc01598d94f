/**
 * Reliability and safety around the cache: `clean` racing a running `reproduce`, a publish killed
 * half-way, symlinks and path flags leading outside the project, an entry that cannot be replaced,
 * the step budget.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { sha256Hex } from "./hash.ts";
import { readManifest } from "./publish.ts";
import { TEST_CONFIG, TestProject, withProject } from "./testing/project.ts";

/** Each train step sleeps 15 ms: a train stage takes ~0.6 s. */
const SLOW_CONFIG = TEST_CONFIG.replace("seed: 1 }", "seed: 1, delay_ms: 15 }");
const TABLES = ["trajectory", "spectra", "summary"];

/** Every file under `dir`, relative, sorted. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory) out.push(...await tree(`${dir}/${e.name}`, `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

/** Asserts that manifest.csv lists exactly the published files, each with its SHA-256. */
async function assertConsistent(results: string): Promise<void> {
  const rows = await readManifest(`${results}/manifest.csv`);
  assertEquals(
    rows.map((r) => r.path).sort(),
    (await tree(results)).filter((f) => f !== "manifest.csv"),
  );
  for (const r of rows) {
    assertEquals(await sha256Hex(await Deno.readFile(`${results}/${r.path}`)), r.sha256, r.path);
  }
}

async function tables(p: TestProject): Promise<string[]> {
  return await Promise.all(TABLES.map((t) => p.table("toy", t)));
}

Deno.test("clean while reproduce runs: refused, or with --wait done after it; the run is unharmed", async () => {
  let reference: string[] = [];
  await withProject(SLOW_CONFIG, async (p) => {
    assertEquals((await p.run("reproduce")).code, 0);
    reference = await tables(p);
  });
  await withProject(SLOW_CONFIG, async (p) => {
    const child = p.spawn("reproduce", "--jobs", "1");
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    // Clean once the first train stage has finished, while the others still need the dataset.
    while (!/^done\s+train\//m.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`reproduce ended early:\n${out}`);
      out += value;
    }
    const refused = await p.run("clean", "--yes");
    assertEquals(refused.code, 1);
    assertEquals(
      refused.err,
      "error: clean: .cache is in use by a running reproduce, stage or publish; rerun clean when it has finished, or pass --wait\n",
    );
    const waiting = p.run("clean", "--wait", "--yes");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assertEquals(status.code, 0, out);
    assertEquals(await tables(p), reference);
    const cleaned = await waiting;
    assertEquals([cleaned.code, cleaned.out], [0, "removed 8 cache entries\n"], cleaned.err);
  });
});

Deno.test("leftovers of a publish killed half-way are finished or removed by the next run", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    assertEquals((await p.cli("reproduce")).code, 0);
    const results = `${p.dir}/results`;
    const before = await tables(p);
    // What older versions left when killed while writing a file, and an unready journal.
    await Deno.writeTextFile(
      `${results}/toy/summary.csv.0b7c6a1e-2f4d-4c3b-9a8e-1d2c3b4a5f60.tmp`,
      "x",
    );
    await Deno.mkdir(`${results}/.publish-unready/files/toy`, { recursive: true });
    await Deno.writeTextFile(`${results}/.publish-unready/files/toy/summary.csv`, "half");
    // A ready journal killed after moving one file, with the old manifest already removed.
    const j = `${results}/.publish-ready`;
    await Deno.mkdir(`${j}/files/toy`, { recursive: true });
    await Deno.copyFile(`${results}/toy/spectra.csv`, `${j}/files/toy/spectra.csv`);
    await Deno.rename(`${results}/manifest.csv`, `${j}/manifest.csv`);
    await Deno.writeTextFile(
      `${j}/plan.json`,
      JSON.stringify({ moves: ["toy/trajectory.csv", "toy/spectra.csv"], removals: [] }),
    );
    const r = await p.cli("reproduce");
    assertEquals([r.code, r.ran], [0, []], r.err);
    assertEquals(
      await tree(results),
      ["manifest.csv", "toy/spectra.csv", "toy/summary.csv", "toy/trajectory.csv"],
    );
    assertEquals(await tables(p), before);
    await assertConsistent(results);
  });
});

Deno.test("published tables are exactly the experiment's tables:, swapped in with manifest.csv last", async () => {
  await withProject(
    TEST_CONFIG.replace("tables: [trajectory, spectra, summary]", "tables: [summary]"),
    async (p) => {
      assertEquals((await p.cli("reproduce")).code, 0);
      assertEquals(await tree(`${p.dir}/results`), ["manifest.csv", "toy/summary.csv"]);
      await assertConsistent(`${p.dir}/results`);
    },
  );
});

Deno.test("symlinks out of the project and path flags the task may not write are refused before any stage", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    const outside = await Deno.makeTempDir();
    try {
      await Deno.symlink(outside, `${p.dir}/results`);
      const r = await p.run("reproduce");
      assertEquals([r.code, r.out], [2, ""]);
      assertEquals(
        r.err.replaceAll(outside, "OUT"),
        "error: --results-dir results: a symlink takes it outside the repository (to OUT); refusing. Name a directory outside the repository directly (README, Permissions)\n",
      );
      await Deno.remove(`${p.dir}/results`);
      await Deno.symlink(outside, `${p.dir}/.cache`);
      const c = await p.run("reproduce");
      assertEquals(c.code, 2);
      assert(c.err.startsWith("error: --cache-dir .cache: a symlink takes it outside"), c.err);
      await Deno.remove(`${p.dir}/.cache`);
      await Deno.writeTextFile(`${outside}/secret.yaml`, "password: hunter2\n");
      await Deno.rename(`${p.dir}/t.yaml`, `${p.dir}/real.yaml`);
      await Deno.symlink(`${outside}/secret.yaml`, `${p.dir}/t.yaml`);
      const s = await p.run("status");
      assertEquals(s.code, 2);
      assert(s.err.startsWith("error: --config t.yaml: a symlink takes it outside"), s.err);
      assert(!s.err.includes("hunter2"), s.err);
      await Deno.remove(`${p.dir}/t.yaml`);
      await Deno.rename(`${p.dir}/real.yaml`, `${p.dir}/t.yaml`);
      // A results directory the task's --allow-write does not cover: refused before the first stage.
      const flag = await p.run("reproduce", "--results-dir", `${outside}/r`);
      assertEquals(flag.code, 2);
      assertEquals(
        flag.err.replaceAll(outside, "OUT"),
        "error: --results-dir OUT/r: this process has no --allow-write for OUT/r (see README, Permissions)\n",
      );
      assert(!(await Deno.stat(`${p.dir}/.cache`).then(() => true, () => false)));
      assertEquals(await tree(outside), ["secret.yaml"]);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("a damaged entry that cannot be replaced fails its stage in one line", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    assertEquals((await p.cli("reproduce")).code, 0);
    const key = (await readManifest(`${p.dir}/results/manifest.csv`))[0].key;
    const entry = `${p.dir}/.cache/${key}`;
    await Deno.writeTextFile(`${entry}/summary.csv`, "damaged\n");
    // Immutable as root (chattr +i), a read-only cache directory otherwise.
    const id = await new Deno.Command("id", { args: ["-u"] }).output();
    const root = new TextDecoder().decode(id.stdout).trim() === "0";
    const chattr = (flag: string) =>
      new Deno.Command("chattr", { args: [flag, entry], stderr: "null" }).output()
        .then((o) => o.success, () => false);
    const protect = async (on: boolean) => {
      if (root) return await chattr(on ? "+i" : "-i");
      await Deno.chmod(`${p.dir}/.cache`, on ? 0o555 : 0o755);
      return true;
    };
    if (!(await protect(true))) {
      console.log("skipped: cannot make a directory immutable here (chattr +i failed)");
      return;
    }
    try {
      const r = await p.cli("reproduce");
      assertEquals(r.code, 1);
      const lines = r.err.trim().split("\n");
      assertEquals(lines.length, 1, r.err);
      assert(
        lines[0].startsWith(
          `tabulate/toy failed: cannot replace the unusable cache entry ${entry} (`,
        ),
        r.err,
      );
    } finally {
      await protect(false);
    }
  });
});

Deno.test("a plan above the step budget needs --yes", async () => {
  await withProject(
    TEST_CONFIG.replace("name: t\n", "name: t\nmax_total_steps: 100\n"),
    async (p) => {
      const r = await p.cli("reproduce");
      assertEquals([r.code, r.out], [2, ""]);
      assertEquals(
        r.err.replaceAll(p.dir, "DIR"),
        "error: DIR/t.yaml:2: max_total_steps: the plan totals 120 optimizer steps over 3 train runs (largest train/toy/sam-rho0.01: 40), above the budget of 100; pass --yes to run it or raise max_total_steps\n",
      );
      assertEquals((await p.cli("reproduce", "--yes")).code, 0);
      assertEquals((await p.cli("reproduce", "--dry-run")).code, 0);
    },
  );
});

Deno.test("a dangling symlink for the cache is refused, not followed", async () => {
  await withProject(TEST_CONFIG, async (p) => {
    const outside = await Deno.makeTempDir();
    try {
      await Deno.symlink(`${outside}/not-yet`, `${p.dir}/.cache`);
      const r = await p.run("reproduce");
      assertEquals(r.code, 2);
      assertEquals(
        r.err,
        `error: --cache-dir .cache: ${p.dir}/.cache is a symlink to nothing; refusing to follow it\n`,
      );
      assertEquals(await tree(outside), []);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});
