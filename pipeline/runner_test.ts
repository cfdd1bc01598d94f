import { assert, assertEquals } from "../testing/assert.ts";
import { TEST_IDS, TestProject } from "./testing/project.ts";
import { Cache } from "./cache.ts";
import { Runner } from "./runner.ts";
import { planInstances } from "./plan.ts";
import { loadConfig } from "./config.ts";
import { testStageKinds } from "./testing/test_stages.ts";
import { TRAIN_RUNS } from "../stages/run_fields.ts";
import { canonicalJson, hashFile, sha256Hex } from "./hash.ts";

const ALL = TEST_IDS;
const sorted = (ids: string[]) => [...ids].sort();
const TABLES = ["trajectory", "spectra", "summary"];

async function tables(p: TestProject): Promise<string[]> {
  return await Promise.all(TABLES.map((t) => p.table("toy", t)));
}

/** `status` output as id → state column. */
async function statusOf(p: TestProject): Promise<Record<string, string>> {
  const r = await p.cli("status");
  assertEquals(r.code, 0, r.err);
  const out: Record<string, string> = {};
  for (const line of r.out.trim().split("\n").slice(0, -1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)(?:\s{2}(.*))?$/.exec(line)!;
    out[m[2]] = m[4] ? `${m[1].trim()}: ${m[4]}` : m[1].trim();
  }
  return out;
}

async function withProject(fn: (p: TestProject) => Promise<void>): Promise<void> {
  const p = await TestProject.create();
  try {
    await fn(p);
  } finally {
    await p.remove();
  }
}

Deno.test("second run reuses everything and publishes the same bytes", async () => {
  await withProject(async (p) => {
    const first = await p.cli("reproduce");
    assertEquals(first.code, 0, first.err);
    assertEquals(sorted(first.ran), sorted(ALL));
    const before = await tables(p);
    const second = await p.cli("reproduce");
    assertEquals([second.ran, sorted(second.reused)], [[], sorted(ALL)]);
    assertEquals(await tables(p), before);
    assert(Object.values(await statusOf(p)).every((s) => s === "up to date"));
  });
});

Deno.test("a changed param reruns that run and its downstream only, and says what changed", async () => {
  await withProject(async (p) => {
    await p.cli("reproduce");
    await p.edit("t.yaml", "{ name: gd, optimizer: gd }", "{ name: gd, optimizer: gd, lr: 0.2 }");
    const st = await statusOf(p);
    assertEquals(st["train/toy/gd"], "changed (params): lr 0.1 → 0.2");
    assertEquals(st["spectral/toy/gd"], "changed (input): upstream must run first: train/toy/gd");
    assertEquals(st["train/toy/sam-rho0.01"], "up to date");
    const dry = await p.cli("reproduce", "--dry-run");
    assertEquals(dry.out.split("\n").filter((l) => l.startsWith("would run")), [
      "would run  train/toy/gd  (changed params: lr 0.1 → 0.2)",
      "would run  spectral/toy/gd  (changed input: upstream must run first: train/toy/gd)",
      "would run  tabulate/toy  (changed input: upstream must run first: train/toy/gd, spectral/toy/gd)",
    ]);
    const r = await p.cli("reproduce");
    assertEquals(sorted(r.ran), ["spectral/toy/gd", "tabulate/toy", "train/toy/gd"]);
  });
});

Deno.test("changed code reruns that kind; identical outputs stop the wave there", async () => {
  await withProject(async (p) => {
    await p.cli("reproduce");
    await p.edit("src/train.txt", "v1", "v2");
    const st = await statusOf(p);
    assertEquals(st["train/toy/gd"], "changed (code): src/train.txt");
    assertEquals(st["dataset/toy"], "up to date");
    const r = await p.cli("reproduce");
    assertEquals(sorted(r.ran), ["train/toy/gd", "train/toy/sam-rho0.01", "train/toy/sam-rho0.02"]);
    // The train outputs did not change, so spectral and tabulate keys did not either.
    assertEquals(sorted(r.reused), [
      "dataset/toy",
      "spectral/toy/gd",
      "spectral/toy/sam-rho0.01",
      "spectral/toy/sam-rho0.02",
      "tabulate/toy",
    ]);
  });
});

Deno.test("a changed upstream artifact reruns everything downstream", async () => {
  await withProject(async (p) => {
    await p.cli("reproduce");
    const before = await p.table("toy", "summary");
    await p.edit("t.yaml", "seed: 1 }", "seed: 2 }");
    const st = await statusOf(p);
    assertEquals(st["dataset/toy"], "changed (params): seed 1 → 2");
    assertEquals(st["train/toy/gd"], "changed (input): upstream must run first: dataset/toy");
    const r = await p.cli("reproduce");
    assertEquals(sorted(r.ran), sorted(ALL));
    assert((await p.table("toy", "summary")) !== before);
    // Back to the old value: everything is in the cache again.
    await p.edit("t.yaml", "seed: 2 }", "seed: 1 }");
    const back = await p.cli("reproduce");
    assertEquals([back.ran, await p.table("toy", "summary")], [[], before]);
  });
});

Deno.test("--force recomputes the selection; --only runs the selection and its upstream", async () => {
  await withProject(async (p) => {
    await p.cli("reproduce");
    assertEquals(sorted((await p.cli("reproduce", "--force")).ran), sorted(ALL));
    const one = await p.cli("reproduce", "--force", "--only", "train/toy/gd");
    assertEquals([one.ran, one.reused], [["train/toy/gd"], ["dataset/toy"]]);
    const dry = await p.cli("reproduce", "--force", "--only", "spectral/*/gd", "--dry-run");
    assertEquals(dry.out, "would run  spectral/toy/gd  (forced)\n1 would run, 2 up to date\n");
  });
});

Deno.test("stage runs exactly one instance; a missing upstream is an error naming it, never computed", async () => {
  await withProject(async (p) => {
    const missing = await p.cli("stage", "spectral/toy/gd");
    assertEquals(missing.code, 1);
    assertEquals(missing.ran, []);
    assertEquals(
      missing.err.replaceAll(p.dir, "DIR"),
      "dataset/toy failed: dataset/toy is not in the cache DIR/.cache (no entry); compute it first (deno task stage dataset/toy, or deno task reproduce --only dataset/toy)\n",
    );
    assertEquals((await p.cli("stage", "dataset/toy")).ran, ["dataset/toy"]);
    assertEquals((await p.cli("stage", "train/toy/gd")).ran, ["train/toy/gd"]);
    const r = await p.cli("stage", "spectral/toy/gd");
    assertEquals([r.code, r.ran, r.reused], [0, ["spectral/toy/gd"], [
      "dataset/toy",
      "train/toy/gd",
    ]]);
    // A retried job (as a workflow engine retries) is idempotent: it reuses the entry.
    assertEquals((await p.cli("stage", "spectral/toy/gd")).ran, []);
    const forced = await p.cli("stage", "spectral/toy/gd", "--force");
    assertEquals([forced.ran, forced.reused], [["spectral/toy/gd"], [
      "dataset/toy",
      "train/toy/gd",
    ]]);
    const st = await statusOf(p);
    assertEquals(st["train/toy/sam-rho0.01"], "missing");
    assertEquals(st["tabulate/toy"], "missing");
    const bad = await p.cli("stage", "spectral/toy/adam");
    assertEquals(
      [bad.code, bad.err],
      [
        2,
        'error: t.yaml has no stage "spectral/toy/adam" (did you mean spectral/toy/gd?); `status` lists them all\n'
          .replace("t.yaml", `${p.dir}/t.yaml`),
      ],
    );
  });
});

Deno.test("a corrupted artifact and a truncated manifest are detected, warned about and recomputed", async () => {
  await withProject(async (p) => {
    await p.cli("reproduce");
    const before = await tables(p);
    const cache = new Cache(`${p.dir}/.cache`);
    const trainKey = (await cache.readIndex("train/toy/gd"))!.key;
    const specKey = (await cache.readIndex("spectral/toy/sam-rho0.01"))!.key;
    await Deno.writeTextFile(`${cache.entryDir(trainKey)}/trajectory.csv`, "step,loss\n1,0\n");
    const manifest = `${cache.entryDir(specKey)}/manifest.json`;
    await Deno.writeTextFile(manifest, (await Deno.readTextFile(manifest)).slice(0, 100));
    const st = await statusOf(p);
    assertEquals(
      st["train/toy/gd"],
      "incomplete: corrupt entry: artifact trajectory.csv does not match its hash",
    );
    assertEquals(
      st["spectral/toy/sam-rho0.01"],
      "incomplete: corrupt entry: manifest.json does not parse",
    );
    const r = await p.cli("reproduce");
    assertEquals(r.code, 0, r.err);
    assertEquals(sorted(r.ran), ["spectral/toy/sam-rho0.01", "train/toy/gd"]);
    assert(
      r.out.includes(
        `warning: cache entry ${
          trainKey.slice(0, 12)
        } of train/toy/gd is unusable (artifact trajectory.csv does not match its hash); recomputing\n`,
      ),
      r.out,
    );
    assertEquals(await tables(p), before);
  });
});

Deno.test("status words: missing, incomplete and running from leftovers", async () => {
  await withProject(async (p) => {
    assertEquals((await statusOf(p))["dataset/toy"], "missing");
    await p.cli("stage", "dataset/toy");
    // With the dataset cached, the train keys are known: fake a killed writer, then a live one.
    const cache = new Cache(`${p.dir}/.cache`);
    const runner = new Runner({ registry: testStageKinds, cache, root: p.dir });
    const plan = planInstances(await loadConfig(`${p.dir}/t.yaml`, { runs: TRAIN_RUNS }));
    const key = (await runner.status(plan)).find((s) => s.id === "train/toy/gd")!.key!;
    await Deno.mkdir(`${cache.dir}/${key}.tmp`);
    assertEquals(
      (await statusOf(p))["train/toy/gd"],
      "incomplete: an interrupted run left it unfinished",
    );
    const lock = await cache.lock(key);
    assertEquals((await statusOf(p))["train/toy/gd"], "running: another process is computing it");
    lock.release();
    const r = await p.cli("stage", "train/toy/gd");
    assertEquals(r.ran, ["train/toy/gd"]);
    assertEquals(
      (await Array.fromAsync(Deno.readDir(cache.dir))).filter((e) =>
        e.name.includes(".") && e.name !== "cache.lock"
      ),
      [],
    );
    assertEquals((await statusOf(p))["train/toy/gd"], "up to date");
  });
});

Deno.test("a failing stage skips its downstream, not the rest, and exits 1", async () => {
  await withProject(async (p) => {
    await p.edit("t.yaml", "seed: 1 }", "seed: 1, fail: gd }");
    const r = await p.cli("reproduce");
    assertEquals(r.code, 1);
    assert(r.out.includes("FAILED   train/toy/gd: asked to fail (train/toy/gd)  ["), r.out);
    assert(r.out.includes("skipped  spectral/toy/gd  (an upstream stage failed)  ["), r.out);
    assert(r.out.includes("skipped  tabulate/toy  (an upstream stage failed)  ["), r.out);
    assert(r.err.startsWith("\ntrain/toy/gd failed:\nError: asked to fail"), r.err);
    assertEquals(r.ran.length, 6); // the failing stage started too
    assert(/\nran 5, reused 0, failed 1, skipped 2 in [0-9.]+ s\n$/.test(r.out), r.out);
  });
});

Deno.test("with more ready instances than slots, the costliest start first (ties in plan order)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const started: string[] = [];
    const kind = {
      kind: "work",
      version: 1,
      sources: [],
      cost: (p: Readonly<Record<string, unknown>>) => Number(p.n),
      async run(ctx: { id: string; write(name: string, data: string): Promise<void> }) {
        started.push(ctx.id);
        await ctx.write("out.txt", ctx.id);
      },
    };
    const plan = [1, 5, 3, 5, 2].map((n, i) => ({
      id: `work/${i}`,
      kind: "work",
      experiment: "x",
      params: { n },
      inputs: {},
    }));
    const runner = new Runner({ registry: { work: kind }, cache: new Cache(`${dir}/c`) });
    const summary = await runner.run(plan, { jobs: 1 });
    assertEquals(summary.failed, []);
    // work/0 takes the free slot at once; the others wait and are woken costliest first.
    assertEquals(started, ["work/0", "work/1", "work/3", "work/2", "work/4"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a recipe is the SHA-256 of the canonical JSON of what the key covers, upstream recipes in place of content", async () => {
  await withProject(async (p) => {
    const runner = new Runner({
      registry: testStageKinds,
      cache: new Cache(`${p.dir}/.cache`),
      root: p.dir,
    });
    const plan = planInstances(await loadConfig(`${p.dir}/t.yaml`, { runs: TRAIN_RUNS }));
    const recipes = await runner.recipes(plan);
    for (const inst of plan) {
      const kind = testStageKinds[inst.kind];
      const sources: Record<string, string> = {};
      for (const src of [...kind.sources].sort()) sources[src] = await hashFile(`${p.dir}/${src}`);
      const oracle = await sha256Hex(canonicalJson({
        version: kind.version,
        sources: await sha256Hex(canonicalJson(sources)),
        runtime: kind.runtime ? await kind.runtime(inst.params) : {},
        params: inst.params,
        kind: inst.kind,
        inputs: Object.fromEntries(
          Object.entries(inst.inputs).map((
            [role, ids],
          ) => [role, ids.map((id) => recipes.get(id))]),
        ),
        id: inst.id,
      }));
      assertEquals(recipes.get(inst.id), oracle, inst.id);
    }
    assert(new Set(recipes.values()).size === plan.length);
  });
});

Deno.test("a group's recipes: one hash over the group (shared part, every member's id and params), then the group's and the id", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const kind = {
      kind: "work",
      version: 2,
      sources: [],
      async run() {},
      async runGroup() {},
    };
    const plan = (seeds: number[]) =>
      [
        { id: "src/a", kind: "src", experiment: "x", params: { n: 1 }, inputs: {} },
        ...seeds.map((seed, i) => ({
          id: `work/x/s${i}`,
          kind: "work",
          experiment: "x",
          params: { seed },
          inputs: { src: ["src/a"] },
          group: "x: g",
        })),
      ].map((s, i, all) => i > 1 ? { ...s, inputs: all[1].inputs } : s);
    const registry = { work: kind, src: { kind: "src", version: 1, sources: [], async run() {} } };
    const runner = new Runner({ registry, cache: new Cache(`${dir}/c`), root: dir });
    const recipes = await runner.recipes(plan([3, 4, 5]));
    const src = recipes.get("src/a")!;
    const shared = await sha256Hex(canonicalJson({
      id: "",
      inputs: { src: [src] },
      kind: "work",
      params: {},
      runtime: {},
      sources: await sha256Hex(canonicalJson({})),
      version: 2,
    }));
    const group = await sha256Hex(
      `{"sweep":"x: g","shared":${JSON.stringify(shared)},"members":{"work/x/s0":{"seed":3},` +
        `"work/x/s1":{"seed":4},"work/x/s2":{"seed":5}}}`,
    );
    for (const i of [0, 1, 2]) {
      assertEquals(recipes.get(`work/x/s${i}`), await sha256Hex(`${group}\nwork/x/s${i}`));
    }
    // A member's recipe covers its group: another member's params change it.
    const other = await runner.recipes(plan([3, 4, 6]));
    assert(other.get("work/x/s0") !== recipes.get("work/x/s0"));
    assertEquals(other.get("src/a"), src);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
