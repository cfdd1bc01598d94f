import { assertEquals, assertThrows } from "../testing/assert.ts";
import {
  canonicalJson,
  canonicalJsonOnce,
  deepFreeze,
  digestOnce,
  hashDir,
  listFiles,
  sha256Hex,
  sha256HexSync,
} from "./hash.ts";

Deno.test("canonicalJson sorts keys at every level and keeps array order", () => {
  const a = canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } });
  const b = canonicalJson({ a: { c: null, d: [3, { y: 2, z: 1 }] }, b: 1 });
  assertEquals(a, b);
  assertEquals(a, '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  assertEquals(canonicalJson([-0, 0.1]), "[0,0.1]");
});

Deno.test("canonicalJson refuses values JSON cannot carry", () => {
  assertThrows(() => canonicalJson({ a: [1, NaN] }), /\$\.a\[1\]: NaN is not JSON-able/);
  assertThrows(() => canonicalJson({ a: undefined }), /\$\.a: undefined is not JSON-able/);
  assertThrows(() => canonicalJson({ a: new Date(0) }), /\$\.a: object is not JSON-able/);
});

Deno.test("canonicalJsonOnce is canonicalJson, frozen values memoized, others never stale", () => {
  const shared = deepFreeze({ z: [1, -0, { b: "x", a: null }], y: true });
  const values = [
    { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } },
    [shared, { k: shared }, "s", 2.5, null],
    { runs: shared, again: shared },
    [1e21, 5e-324, -0, 0.1 + 0.2, -1.5e-7, 2 ** 53 + 2, 'é\n"\u2028', ""],
  ];
  for (const v of values) {
    assertEquals(canonicalJsonOnce(v), canonicalJson(v));
    assertEquals(canonicalJsonOnce(v), canonicalJson(v)); // the memoized string, if any
  }
  assertThrows(() => canonicalJsonOnce({ a: [1, NaN] }), /NaN is not JSON-able/);
  assertThrows(() => canonicalJsonOnce({ a: new Date(0) }), /is not JSON-able/);
  // Not frozen: a change between two calls shows in the second (no memo to go stale).
  const open = { a: [1, 2] };
  assertEquals(canonicalJsonOnce(open), '{"a":[1,2]}');
  open.a.push(3);
  assertEquals(canonicalJsonOnce(open), '{"a":[1,2,3]}');
});

Deno.test("deepFreeze freezes every level; digestOnce is the SHA-256 of the canonical JSON", async () => {
  const v = deepFreeze({ b: [{ c: 1 }], a: "x" });
  assertEquals([Object.isFrozen(v), Object.isFrozen(v.b), Object.isFrozen(v.b[0])], [
    true,
    true,
    true,
  ]);
  assertThrows(() => (v.b as unknown[]).push(2), /not extensible|read only|frozen/i);
  for (const x of [v, { a: "x", b: [{ c: 1 }] }]) {
    assertEquals(digestOnce(x), await sha256Hex('{"a":"x","b":[{"c":1}]}'));
  }
});

Deno.test("sha256Hex matches the FIPS 180-2 test vectors", async () => {
  assertEquals(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    await sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  // A string is hashed as its UTF-8 bytes, and a view as its own bytes only (Python's hashlib).
  const utf8 = "1920f11a1a642bb9f42f06dd3e7620ab78f4790b4459627422d1424714e866ea";
  assertEquals(await sha256Hex("é✓\u2028"), utf8);
  assertEquals(await sha256Hex(new TextEncoder().encode("é✓\u2028")), utf8);
  const view = new TextEncoder().encode("xxabcyy").subarray(2, 5);
  assertEquals(
    await sha256Hex(view),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("sha256HexSync gives sha256Hex's digests without a promise", () => {
  assertEquals(
    sha256HexSync(new TextEncoder().encode("xxabcyy").subarray(2, 5)),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assertEquals(
    sha256HexSync("é✓ "),
    "1920f11a1a642bb9f42f06dd3e7620ab78f4790b4459627422d1424714e866ea",
  );
});

Deno.test("hashDir hashes nested files by relative path and honours exclude", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/sub/b.txt`, "abc");
    await Deno.writeTextFile(`${dir}/a.txt`, "");
    await Deno.writeTextFile(`${dir}/manifest.json`, "{}");
    assertEquals(await listFiles(dir), ["a.txt", "manifest.json", "sub/b.txt"]);
    assertEquals(await hashDir(dir, { exclude: ["manifest.json"] }), {
      "a.txt": { sha256: await sha256Hex(""), bytes: 0 },
      "sub/b.txt": { sha256: await sha256Hex("abc"), bytes: 3 },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
