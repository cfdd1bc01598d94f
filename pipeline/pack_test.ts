import { assertEquals, assertRejects } from "../testing/assert.ts";
import { PackWriter, readArtifactsText, readArtifactText } from "./pack.ts";
import type { InputArtifact } from "./stage.ts";
import { createHash } from "node:crypto";

/** A pack of `n` members, each with a small `t.csv` and a `big.bin` of `big` bytes. */
async function pack(dir: string, n: number, big: number): Promise<InputArtifact[]> {
  const ids = Array.from({ length: n }, (_, i) => `train/x/r${i}`);
  const w = new PackWriter(ids);
  ids.forEach((id, i) => {
    w.add(id, "t.csv", `step,loss\n${i},${i / 7}\n`);
    w.add(id, "big.bin", new Uint8Array(big).fill(i));
  });
  const path = `${dir}/pack`;
  const index = await w.write(path);
  return ids.map((id) => ({ id, key: "k", dir, params: {}, pack: { path, files: index[id] } }));
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

Deno.test("PackWriter: the index tiles the pack, and each file's hash is that of its bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = new PackWriter(["a", "b"]);
    w.add("b", "z.txt", "zz");
    w.add("a", "y.bin", new Uint8Array([1, 2, 3]));
    w.add("a", "x.txt", "replaced");
    w.add("a", "x.txt", "é");
    const later = new Uint8Array([9]);
    w.add("b", "w.bin", later);
    later[0] = 7; // the writer holds its own copy
    const index = await w.write(`${dir}/pack`);
    const bytes = Deno.readFileSync(`${dir}/pack`);
    assertEquals(
      Object.entries(index).flatMap(([m, fs]) =>
        Object.entries(fs).map(([n, f]) => [m, n, f.offset, f.bytes])
      ),
      [["a", "x.txt", 0, 2], ["a", "y.bin", 2, 3], ["b", "w.bin", 5, 1], ["b", "z.txt", 6, 2]],
    );
    assertEquals([...bytes], [0xc3, 0xa9, 1, 2, 3, 9, 0x7a, 0x7a]);
    for (const fs of Object.values(index)) {
      for (const f of Object.values(fs)) {
        const slice = bytes.subarray(f.offset, f.offset + f.bytes);
        assertEquals(f.sha256, createHash("sha256").update(slice).digest("hex"));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PackWriter: text of any code points is packed as its UTF-8 bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const texts = ["", "plain", "é€", "😀 and \u{10FFFF}", "\uD800 lone surrogate"];
    const w = new PackWriter(texts.map((_, i) => `m${i}`));
    texts.forEach((t, i) => w.add(`m${i}`, "t.txt", t));
    const index = await w.write(`${dir}/pack`);
    const bytes = Deno.readFileSync(`${dir}/pack`);
    texts.forEach((t, i) => {
      const f = index[`m${i}`]["t.txt"];
      assertEquals([...bytes.subarray(f.offset, f.offset + f.bytes)], [
        ...new TextEncoder().encode(t),
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
