import { assert, assertEquals } from "../testing/assert.ts";
import {
  artifactsJson,
  Cache,
  cacheKey,
  type KeyComponents,
  type Manifest,
  sweepKeys,
} from "./cache.ts";
import { type PackIndex, PackWriter, readArtifact, readArtifactText } from "./pack.ts";
import type { InputArtifact } from "./stage.ts";
import { canonicalJson, digestOnce, sha256Hex, sha256HexSync } from "./hash.ts";

const COMPONENTS: KeyComponents = {
  id: "train/x/a",
  kind: "train",
  version: 1,
  params: { lr: 0.1, rho: 0.01 },
  inputs: { dataset: [{ id: "dataset/x", key: "k", hash: "h", params: { n: 1 } }] },
  sources: { "src/train.txt": "abc" },
  runtime: { backend: "f64" },
};

async function withCache(fn: (cache: Cache, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(new Cache(`${dir}/.cache`), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function commitOne(cache: Cache, key: string, files: Record<string, string>) {
  const tmp = await cache.begin(key);
  for (const [rel, text] of Object.entries(files)) {
    if (rel.includes("/")) {
      await Deno.mkdir(`${tmp}/${rel.slice(0, rel.lastIndexOf("/"))}`, { recursive: true });
    }
    await Deno.writeTextFile(`${tmp}/${rel}`, text);
  }
  const t = new Date().toISOString();
  return await cache.commit(key, tmp, {
    ...COMPONENTS,
    timings: { started: t, finished: t, seconds: 0 },
  });
}

Deno.test("cacheKey depends on every component except the upstream key, and not on key order", async () => {
  const base = await cacheKey(COMPONENTS);
  assertEquals(await cacheKey({ ...COMPONENTS, params: { rho: 0.01, lr: 0.1 } }), base);
  const up = COMPONENTS.inputs.dataset[0];
  assertEquals(
    await cacheKey({ ...COMPONENTS, inputs: { dataset: [{ ...up, key: "other" }] } }),
    base,
  );
  const variants: KeyComponents[] = [
    { ...COMPONENTS, id: "train/x/b" },
    { ...COMPONENTS, kind: "spectral" },
    { ...COMPONENTS, version: 2 },
    { ...COMPONENTS, params: { lr: 0.1, rho: 0.02 } },
    { ...COMPONENTS, inputs: { dataset: [{ ...up, hash: "h2" }] } },
    { ...COMPONENTS, inputs: { dataset: [{ ...up, params: { n: 2 } }] } },
    { ...COMPONENTS, inputs: { data: [up] } },
    { ...COMPONENTS, sources: { "src/train.txt": "abd" } },
    { ...COMPONENTS, runtime: { backend: "cpu" } },
  ];
  const keys = await Promise.all(variants.map(cacheKey));
  assertEquals(new Set([base, ...keys]).size, variants.length + 1);
  assert(/^[0-9a-f]{64}$/.test(base));
});

Deno.test("cacheKey is the SHA-256 of the canonical JSON of its components, written in any order", async () => {
  const up = COMPONENTS.inputs.dataset[0];
  const cases: KeyComponents[] = [
    COMPONENTS,
    { ...COMPONENTS, inputs: {} },
    {
      ...COMPONENTS,
      id: 'tabulate/"q\\é\u2028',
      inputs: {
        train: [up, { ...up, id: "b", params: { z: [1, -0, 1e21], a: null } }],
        dataset: [up],
      },
      params: { tables: ["summary"], nested: { b: 1, a: [true, "x"] } },
    },
  ];
  for (const c of cases) {
    const oracle = await sha256Hex(canonicalJson({
      version: c.version,
      sources: digestOnce(c.sources),
      runtime: c.runtime,
      params: c.params,
      kind: c.kind,
      inputs: Object.fromEntries(
        Object.entries(c.inputs).map(([role, refs]) => [
          role,
          refs.map((r) => ({ params: r.params, id: r.id, hash: r.hash })),
        ]),
      ),
      id: c.id,
    }));
    assertEquals(await cacheKey(c), oracle);
  }
});

Deno.test("commit then read verifies; nested artifacts are hashed; no temp dirs remain", async () => {
  await withCache(async (cache) => {
    const key = "a".repeat(64);
    assertEquals(await cache.read(key), { ok: false, state: "missing", reason: "no entry" });
    const m = await commitOne(cache, key, { "t.csv": "x\n1\n", "ck/last.json": "[1]" });
    assertEquals(Object.keys(m.artifacts), ["ck/last.json", "t.csv"]);
    const fresh = new Cache(cache.dir); // a new process: nothing memoized
    const r = await fresh.read(key);
    assert(r.ok);
    assertEquals(r.manifest.contentHash, m.contentHash);
    assertEquals([...Deno.readDirSync(cache.dir)].map((e) => e.name), [key]);
  });
});

Deno.test("a corrupted artifact, a truncated manifest, a missing or extra file are misses, never errors", async () => {
  await withCache(async (cache) => {
    const key = "b".repeat(64);
    const damage: [string, (dir: string) => Promise<void>, string][] = [
      [
        "corrupt",
        (d) => Deno.writeTextFile(`${d}/t.csv`, "x\n2\n"),
        "artifact t.csv does not match its hash",
      ],
      ["truncate", async (d) => {
        const text = await Deno.readTextFile(`${d}/manifest.json`);
        await Deno.writeTextFile(`${d}/manifest.json`, text.slice(0, text.length / 2));
      }, "manifest.json does not parse"],
      ["missing", (d) => Deno.remove(`${d}/t.csv`), "artifact t.csv is missing"],
      ["extra", (d) => Deno.writeTextFile(`${d}/u.csv`, ""), "unexpected file u.csv"],
      ["no manifest", (d) => Deno.remove(`${d}/manifest.json`), "manifest.json is missing"],
      ["wrong key", async (d) => {
        const m = JSON.parse(await Deno.readTextFile(`${d}/manifest.json`));
        await Deno.writeTextFile(
          `${d}/manifest.json`,
          JSON.stringify({ ...m, key: "c".repeat(64) }),
        );
      }, "manifest.json is not a valid manifest for this key"],
    ];
    for (const [what, harm, reason] of damage) {
      await commitOne(cache, key, { "t.csv": "x\n1\n" });
      await harm(cache.entryDir(key));
      assertEquals(
        await new Cache(cache.dir).read(key),
        { ok: false, state: "corrupt", reason },
        what,
      );
    }
    // Recommitting replaces the damaged entry.
    await commitOne(cache, key, { "t.csv": "x\n1\n" });
    assert((await new Cache(cache.dir).read(key)).ok);
  });
});

Deno.test("a stage may not write manifest.json", async () => {
  await withCache(async (cache) => {
    let msg = "";
    try {
      await commitOne(cache, "d".repeat(64), { "manifest.json": "{}" });
    } catch (e) {
      msg = (e as Error).message;
    }
    assertEquals(msg, "train/x/a: the stage wrote manifest.json, a name reserved for the pipeline");
  });
});

Deno.test("lock: a second locker waits for the release; leftovers tell running from incomplete", async () => {
  await withCache(async (cache) => {
    const key = "e".repeat(64);
    assertEquals(await cache.leftover(key), null);
    const first = await cache.lock(key);
    assertEquals(await cache.leftover(key), "running");
    let waited = false, acquired = false;
    const second = cache.lock(key, () => waited = true).then((l) => {
      acquired = true;
      return l;
    });
    // Once the second locker has found the lock taken, it must keep waiting while it is held.
    while (!waited) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 250));
    assert(!acquired);
    first.release();
    (await second).release();
    assertEquals(await cache.leftover(key), null);
    // A temp dir or a lock file with no live holder is what a killed writer leaves.
    await Deno.mkdir(`${cache.dir}/${key}.tmp`);
    assertEquals(await cache.leftover(key), "incomplete");
    await cache.begin(key).then((tmp) => Deno.remove(tmp));
    assertEquals(await cache.leftover(key), null);
    await Deno.writeTextFile(`${cache.dir}/${key}.lock`, "123\n");
    assertEquals(await cache.leftover(key), "incomplete");
    (await cache.lock(key)).release();
    assertEquals(await cache.leftover(key), null);
    // tidy removes leftovers of a writer killed after its rename, and leaves a live writer alone.
    await Deno.writeTextFile(`${cache.dir}/${key}.lock`, "123\n");
    await Deno.mkdir(`${cache.dir}/${key}.old`);
    await cache.tidy(key);
    assertEquals(await cache.leftover(key), null);
    const live = await cache.lock(key);
    await cache.tidy(key);
    assertEquals(await cache.leftover(key), "running");
    live.release();
  });
});

Deno.test("index records the last key per id; clean keeps only what is asked", async () => {
  await withCache(async (cache) => {
    const [k1, k2] = ["1".repeat(64), "2".repeat(64)];
    await commitOne(cache, k1, { "a.txt": "1" });
    await commitOne(cache, k2, { "a.txt": "2" });
    await cache.writeIndex(k2, COMPONENTS);
    assertEquals((await cache.readIndex(COMPONENTS.id))?.key, k2);
    await Deno.mkdir(`${cache.dir}/${k1}.tmp`);
    assertEquals(await cache.clean(new Set([k2])), 1);
    assertEquals(await cache.keys(), [k2]);
    assertEquals(await cache.leftover(k1), null);
    assertEquals(await cache.clean(), 1);
    assertEquals(await cache.keys(), []);
    assertEquals(await cache.readIndex(COMPONENTS.id), null);
  });
});

const TWO = [
  { ...COMPONENTS, id: "train/x/a", params: { seed: 0 } },
  { ...COMPONENTS, id: "train/x/b", params: { seed: 1 } },
];

/**
 * Commits a sweep of two members (`a`, `b`) whose group wrote two files, each with both members'
 * parts; returns the sweep key and the members' keys.
 */
async function commitSweepOf(cache: Cache): Promise<{ key: string; members: string[] }> {
  const { key, members: keys } = sweepKeys("x: g#0", TWO);
  const tmp = await cache.begin(key);
  const pack = new PackWriter();
  pack.add("out.txt", "member,v\n0,run 0\n1,run 1\n");
  pack.add("sub/data.bin", new Uint8Array([0, 255, 1, 255]));
  const t = new Date().toISOString();
  await cache.commitSweep(key, tmp, {
    group: "x: g#0",
    members: TWO.map((c, i) => ({ ...c, key: keys[i] })),
    packed: await pack.write(`${tmp}/pack`),
    timings: { started: t, finished: t, seconds: 0 },
  });
  return { key, members: keys };
}

/** A member as a downstream stage sees it. */
function asInput(cache: Cache, m: Manifest): InputArtifact {
  return {
    id: m.id,
    key: m.key,
    dir: cache.dirOf(m),
    params: m.params,
    pack: cache.packOf(m),
    member: m.member,
  };
}

Deno.test("sweepKeys: one key per group, over its shared components and every member's id and params", () => {
  const base = sweepKeys("x: g#0", TWO);
  assertEquals(base.members.length, 2);
  assert(base.members[0] !== base.members[1] && !base.members.includes(base.key));
  assertEquals(base.members[1], sha256HexSync(`${base.key}\ntrain/x/b`));
  assertEquals(sweepKeys("x: g#0", TWO), base, "deterministic");
  const variants = [
    sweepKeys("x: g#1", TWO),
    sweepKeys("x: g#0", [TWO[0], { ...TWO[1], params: { seed: 2 } }]),
    sweepKeys("x: g#0", [TWO[0], { ...TWO[1], id: "train/x/c" }]),
    sweepKeys("x: g#0", [TWO[1], TWO[0]]),
    sweepKeys("x: g#0", TWO.map((c) => ({ ...c, version: 2 }))),
    sweepKeys("x: g#0", TWO.map((c) => ({ ...c, runtime: { backend: "cpu" } }))),
    sweepKeys("x: g#0", TWO.map((c) => ({ ...c, sources: { "src/train.txt": "abd" } }))),
    sweepKeys(
      "x: g#0",
      TWO.map((c) => ({ ...c, inputs: { dataset: [{ ...c.inputs.dataset[0], hash: "h2" }] } })),
    ),
    sweepKeys("x: g#0", [TWO[0]]),
  ];
  for (const v of variants) assert(v.key !== base.key, JSON.stringify(v));
  // An upstream key is informational, as in cacheKey.
  const sameHash = TWO.map((c) => ({
    ...c,
    inputs: { dataset: [{ ...c.inputs.dataset[0], key: "other" }] },
  }));
  assertEquals(sweepKeys("x: g#0", sameHash).key, base.key);
});

Deno.test("a sweep entry: each member readable with its own key, the group's content hash and files", async () => {
  await withCache(async (cache, dir) => {
    const { key, members } = await commitSweepOf(cache);
    assertEquals([...Deno.readDirSync(cache.entryDir(key))].map((e) => e.name).sort(), [
      "manifest.json",
      "pack",
    ]);
    const fresh = new Cache(`${dir}/.cache`);
    const read = await fresh.readSweep(key);
    assert(read.ok, "the sweep reads back");
    const [a, b] = members.map((k) => read.members.get(k)!);
    assertEquals([a.id, b.id, a.member, b.member], ["train/x/a", "train/x/b", 0, 1]);
    assertEquals([a.params, b.params], [{ seed: 0 }, { seed: 1 }]);
    assertEquals([a.sweep, a.kind, b.sources], [key, "train", COMPONENTS.sources]);
    assertEquals(a.contentHash, b.contentHash, "a member's content hash is its group's");
    assertEquals(Object.keys(a.artifacts).sort(), ["out.txt", "sub/data.bin"]);
    assertEquals(fresh.packOf(a), fresh.packOf(b), "one pack layout per sweep");
    assertEquals(
      await readArtifactText(asInput(fresh, b), "out.txt"),
      "member,v\n0,run 0\n1,run 1\n",
    );
    assertEquals([...await readArtifact(asInput(fresh, a), "sub/data.bin")], [0, 255, 1, 255]);
    let missing = "";
    await readArtifact(asInput(fresh, a), "none.txt").catch((e) => missing = e.name);
    assertEquals(missing, "NotFound");
    // Once its sweep is read, a member reads by its own key.
    const one = await fresh.read(members[0]);
    assert(one.ok && one.manifest.id === "train/x/a");
    assertEquals(await fresh.readIndex("train/x/b"), null, "no record per member");
  });
});

Deno.test("a sweep entry with a changed byte, a missing pack, an extra file or a bad manifest is corrupt, never an error", async () => {
  const editManifest = (edit: (m: Record<string, unknown>) => void) => async (d: string) => {
    const m = JSON.parse(await Deno.readTextFile(`${d}/manifest.json`));
    edit(m);
    await Deno.writeTextFile(`${d}/manifest.json`, JSON.stringify(m));
  };
  for (
    const damage of [
      async (d: string) => {
        const bytes = await Deno.readFile(`${d}/pack`);
        bytes[3] ^= 1;
        await Deno.writeFile(`${d}/pack`, bytes);
      },
      async (d: string) => {
        const bytes = await Deno.readFile(`${d}/pack`);
        await Deno.writeFile(`${d}/pack`, new Uint8Array([...bytes, 0]));
      },
      (d: string) => Deno.remove(`${d}/pack`),
      (d: string) => Deno.writeTextFile(`${d}/extra.txt`, "x"),
      (d: string) => Deno.writeTextFile(`${d}/manifest.json`, "{"),
      editManifest((m) => (m.offsets as Record<string, number>)["out.txt"] = 1),
      editManifest((m) => m.contentHash = "0".repeat(64)),
      editManifest((m) => (m.members as unknown[])[1] = { id: 7 }),
    ]
  ) {
    await withCache(async (cache, dir) => {
      const { key } = await commitSweepOf(cache);
      await damage(cache.entryDir(key));
      const read = await new Cache(`${dir}/.cache`).readSweep(key);
      assert(!read.ok && read.state === "corrupt", JSON.stringify(read));
    });
  }
  await withCache(async (cache) => {
    const read = await cache.readSweep("0".repeat(64));
    assert(!read.ok && read.state === "missing");
  });
});

Deno.test("a sweep's members share every key component but id and params, and write only through the pack", async () => {
  const attempt = async (
    cache: Cache,
    b: KeyComponents,
    stray?: string,
  ): Promise<string> => {
    const a = { ...COMPONENTS, id: "train/x/a" };
    const { key, members: keys } = sweepKeys("g", [a, b]);
    const tmp = await cache.begin(key);
    if (stray) await Deno.writeTextFile(`${tmp}/${stray}`, "x");
    const t = new Date().toISOString();
    try {
      await cache.commitSweep(key, tmp, {
        group: "g",
        members: [{ ...a, key: keys[0] }, { ...b, key: keys[1] }],
        packed: {},
        timings: { started: t, finished: t, seconds: 0 },
      });
      return "";
    } catch (e) {
      await cache.abort(tmp);
      return (e as Error).message;
    }
  };
  await withCache(async (cache) => {
    const other = { ...COMPONENTS, id: "train/x/b", runtime: { backend: "cpu" } };
    const m = await attempt(cache, other);
    assert(m.includes("must share all key components"), m);
    const s = await attempt(cache, { ...COMPONENTS, id: "train/x/b" }, "trajectory.csv");
    assert(s.includes("wrote trajectory.csv outside its pack"), s);
    assertEquals(await attempt(cache, { ...COMPONENTS, id: "train/x/b" }), "");
  });
});

Deno.test("a sweep's commit refuses a pack its writer's layout does not tile", async () => {
  await withCache(async (cache) => {
    const { key, members: keys } = sweepKeys("g", TWO);
    const commit = async (edit: (tmp: string, packed: PackIndex) => PackIndex) => {
      const tmp = await cache.begin(key);
      const pack = new PackWriter();
      pack.add("a.txt", "run 0");
      pack.add("b.txt", "run 1");
      const packed = edit(tmp, await pack.write(`${tmp}/pack`));
      const t = new Date().toISOString();
      try {
        await cache.commitSweep(key, tmp, {
          group: "g",
          members: TWO.map((c, i) => ({ ...c, key: keys[i] })),
          packed,
          timings: { started: t, finished: t, seconds: 0 },
        });
        return "";
      } catch (e) {
        await cache.abort(tmp);
        return (e as Error).message;
      }
    };
    const moved = await commit((_, p) => ({ ...p, "b.txt": { ...p["b.txt"], offset: 0 } }));
    assert(moved.includes("artifact b.txt is not where the pack's layout puts it"), moved);
    const grown = await commit((tmp, p) => {
      Deno.writeFileSync(`${tmp}/pack`, new Uint8Array([1]), { append: true });
      return p;
    });
    assert(grown.includes("the pack holds 11 bytes, its files list 10"), grown);
    assertEquals(await commit((_, p) => p), "");
    assert((await cache.readSweep(key)).ok, "the untouched layout commits and reads back");
  });
});

Deno.test("an index record is its entry's manifest, linked, or written where no link can be made", async () => {
  await withCache(async (cache) => {
    const { key, members } = await commitSweepOf(cache);
    const [a, b] = ["train/x/a", "train/x/b"];
    const records = members.map((k, i) => ({
      ...COMPONENTS,
      id: [a, b][i],
      params: { seed: i },
      key: k,
    }));
    cache.writeSweepIndex(key, "x: g#0", records);
    const path = `${cache.dir}/index/${encodeURIComponent("x: g#0")}.json`;
    assertEquals(Deno.statSync(path).nlink, 2, "a second name of the sweep's manifest.json");
    const linked = cache.readGroupIndex("x: g#0");
    assertEquals([...linked.keys()], [a, b]);
    assertEquals([linked.get(b)!.key, linked.get(b)!.params], [members[1], { seed: 1 }]);
    assertEquals(linked.get(a)!.sources, COMPONENTS.sources);
    // No entry to link to: the record itself, with the same fields.
    const none = "9".repeat(64);
    cache.writeSweepIndex(none, "x: g#1", records);
    const written = cache.readGroupIndex("x: g#1");
    assertEquals(Deno.statSync(`${cache.dir}/index/x%3A%20g%231.json`).nlink, 1);
    for (const id of [a, b]) {
      const { key: k, params, sources, version } = linked.get(id)!;
      const w = written.get(id)!;
      assertEquals([w.key, w.params, w.sources, w.version], [k, params, sources, version]);
    }
    await commitOne(cache, "1".repeat(64), { "a.txt": "1" });
    await cache.writeIndex("1".repeat(64), COMPONENTS);
    const one = await cache.readIndex(COMPONENTS.id);
    assertEquals([one?.key, one?.params, one?.inputs], [
      "1".repeat(64),
      COMPONENTS.params,
      COMPONENTS.inputs,
    ]);
    assertEquals(
      Deno.statSync(`${cache.dir}/index/${encodeURIComponent(COMPONENTS.id)}.json`).nlink,
      2,
    );
  });
});

Deno.test("artifactsJson writes what canonicalJson writes, whatever the names' order", () => {
  const artifacts = {
    "trajectory.csv": { sha256: "ab".repeat(32), bytes: 276 },
    'odd "name"\u00e9.json': { bytes: 0, sha256: "cd".repeat(32) },
    "a/b.f64": { sha256: "ef".repeat(32), bytes: 2 ** 40 },
  };
  assertEquals(artifactsJson(artifacts), canonicalJson(artifacts));
  assertEquals(artifactsJson({}), canonicalJson({}));
  let threw = false;
  try {
    artifactsJson({ x: { sha256: "00", bytes: 1.5 } });
  } catch (e) {
    threw = e instanceof TypeError;
  }
  assert(threw, "a size that is not an integer is refused");
});
