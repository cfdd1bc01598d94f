import { assertEquals, assertRejects, assertThrows } from "../testing/assert.ts";
import {
  artifactBytes,
  PackWriter,
  readArtifact,
  readArtifactsText,
  readArtifactText,
} from "./pack.ts";
import type { InputArtifact } from "./stage.ts";
import { createHash } from "node:crypto";

/**
 * `n` packs in `dir`, one per group of one member each, each with a small `t.csv` and a `big.bin`
 * of `big` bytes, all in one file: the layout readArtifactsText reads from, member by member.
 */
async function pack(dir: string, n: number, big: number): Promise<InputArtifact[]> {
  const ids = Array.from({ length: n }, (_, i) => `train/x/r${i}`);
  const w = new PackWriter();
  ids.forEach((_, i) => {
    w.add(`t${i}.csv`, `step,loss\n${i},${i / 7}\n`);
    w.add(`big${i}.bin`, new Uint8Array(big).fill(i));
  });
  const path = `${dir}/pack`;
  const index = await w.write(path);
  return ids.map((id, i) => ({
    id,
    key: "k",
    dir,
    params: {},
    pack: { path, files: { "t.csv": index[`t${i}.csv`], "big.bin": index[`big${i}.bin`] } },
  }));
}

Deno.test("readArtifactsText: each member's text, whether the pack is read at once or per member", async () => {
  const dir = await Deno.makeTempDir();
  try {
    Deno.mkdirSync(`${dir}/a`);
    Deno.mkdirSync(`${dir}/b`);
    Deno.mkdirSync(`${dir}/own`);
    Deno.writeTextFileSync(`${dir}/own/t.csv`, "step,loss\n9,9\n");
    const own: InputArtifact = { id: "train/x/own", key: "k", dir: `${dir}/own`, params: {} };
    // 16 bytes between members: one read of the stretch; 2 MB between them: a read per member.
    for (const [sub, big] of [["a", 16], ["b", 2 << 20]] as const) {
      const members = await pack(`${dir}/${sub}`, 5, big);
      // In a different order than the pack's, with a member of its own directory among them.
      const as = [members[3], own, members[0], members[4], members[1]];
      const want = await Promise.all(as.map((a) => readArtifactText(a, "t.csv")));
      assertEquals(await readArtifactsText(as, "t.csv"), want);
      assertEquals(want[2], "step,loss\n0,0\n");
      await assertRejects(
        () => readArtifactsText(members, "missing.csv"),
        /has no artifact missing.csv/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readArtifactsText: the members of a group share its file, decoded once", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = new PackWriter();
    w.add("t.csv", "member,step\n0,1\n1,2\n");
    const path = `${dir}/pack`;
    const files = await w.write(path);
    const as = [0, 1, 2].map((m): InputArtifact => ({
      id: `train/x/r${m}`,
      key: "k",
      dir,
      params: {},
      pack: { path, files },
      member: m,
    }));
    const texts = await readArtifactsText(as, "t.csv");
    assertEquals(texts, Array(3).fill("member,step\n0,1\n1,2\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PackWriter: the index tiles the pack, and each file's hash is that of its bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = new PackWriter();
    w.add("z.txt", "zz");
    w.add("y.bin", new Uint8Array([1, 2, 3]));
    w.add("x.txt", "é");
    const later = new Uint8Array([9]);
    w.add("w.bin", later);
    later[0] = 7; // the writer holds its own copy
    const index = await w.write(`${dir}/pack`);
    const bytes = Deno.readFileSync(`${dir}/pack`);
    assertEquals(
      Object.entries(index).map(([n, f]) => [n, f.offset, f.bytes]),
      [["w.bin", 0, 1], ["x.txt", 1, 2], ["y.bin", 3, 3], ["z.txt", 6, 2]],
    );
    assertEquals([...bytes], [9, 0xc3, 0xa9, 1, 2, 3, 0x7a, 0x7a]);
    for (const f of Object.values(index)) {
      const slice = bytes.subarray(f.offset, f.offset + f.bytes);
      assertEquals(f.sha256, createHash("sha256").update(slice).digest("hex"));
    }
    assertThrows(() => w.add("x.txt", "again"), /wrote x\.txt twice/);
    assertThrows(() => w.add("../x", "up"), /not a plain relative file name/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PackWriter: text of any code points is packed as its UTF-8 bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const texts = ["", "plain", "é€", "😀 and \u{10FFFF}", "\uD800 lone surrogate"];
    const w = new PackWriter();
    texts.forEach((t, i) => w.add(`m${i}.txt`, t));
    const index = await w.write(`${dir}/pack`);
    const bytes = Deno.readFileSync(`${dir}/pack`);
    texts.forEach((t, i) => {
      const f = index[`m${i}.txt`];
      assertEquals([...bytes.subarray(f.offset, f.offset + f.bytes)], [
        ...new TextEncoder().encode(t),
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readArtifact: a byte range of a packed file or of a file of its own; outside it is an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await pack(dir, 2, 10);
    const bytes = Uint8Array.from({ length: 10 }, (_, i) => 100 + i);
    await Deno.writeFile(`${dir}/own.bin`, bytes);
    const own: InputArtifact = { id: "train/x/own", key: "k", dir, params: {} };
    assertEquals([...await readArtifact(b, "big.bin", { start: 3, bytes: 4 })], [1, 1, 1, 1]);
    assertEquals((await readArtifact(a, "big.bin", { start: 7 })).length, 3);
    assertEquals([...await readArtifact(own, "own.bin", { start: 2, bytes: 3 })], [102, 103, 104]);
    assertEquals([...await readArtifact(own, "own.bin", { start: 10 })], []);
    assertEquals([await artifactBytes(a, "big.bin"), await artifactBytes(own, "own.bin")], [
      10,
      10,
    ]);
    for (const [x, name] of [[b, "big.bin"], [own, "own.bin"]] as const) {
      await assertRejects(
        () => readArtifact(x, name, { start: 8, bytes: 3 }),
        /bytes 8…11 are outside its 10 bytes/,
      );
      await assertRejects(() => readArtifact(x, name, { start: -1 }), /outside its 10 bytes/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
