/**
 * Canonical JSON and SHA-256 content hashes (node:crypto, built into Deno; no dependencies).
 * @module
 */
import { hash } from "node:crypto";

/**
 * Serializes a JSON-able value with object keys sorted at every level, so that equal values give
 * equal strings whatever order their keys were written in.
 * Throws on values JSON cannot represent faithfully (non-finite numbers, undefined, functions …).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value, "$"));
}

function canonicalize(value: unknown, path: string): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} is not JSON-able`);
    return Object.is(value, -0) ? 0 : value;
  }
  if (Array.isArray(value)) return value.map((v, i) => canonicalize(v, `${path}[${i}]`));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      out[k] = canonicalize((value as Record<string, unknown>)[k], `${path}.${k}`);
    }
    return out;
  }
  throw new TypeError(`${path}: ${typeof value} is not JSON-able`);
}

const serialized = new WeakMap<object, string>();

/**
 * {@linkcode canonicalJson} that memoizes frozen objects and arrays (see {@linkcode deepFreeze}):
 * each is serialized once per process and reused wherever it appears again (a sweep's members
 * share their group's values, every instance of a kind shares its sources), so 10⁴ keys do not
 * re-serialize the same values 10⁴ times. Only frozen values are memoized: they cannot change
 * under the memo, and the fresh objects a key is assembled from would only fill the WeakMap
 * (its growth cost more than their serialization). The same string as `canonicalJson`.
 */
export function canonicalJsonOnce(value: unknown): string {
  // Finite numbers and strings directly: what canonicalJson gives them (JSON writes a finite
  // number as ToString does, and −0 as 0).
  if (typeof value === "number" && Number.isFinite(value)) return value === 0 ? "0" : `${value}`;
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value !== "object") return canonicalJson(value);
  const frozen = Object.isFrozen(value);
  let s = frozen ? serialized.get(value) : undefined;
  if (s !== undefined) return s;
  if (Array.isArray(value)) s = `[${value.map(canonicalJsonOnce).join(",")}]`;
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    const o = value as Record<string, unknown>;
    s = `{${
      Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJsonOnce(o[k])}`).join(",")
    }}`;
  } else throw new TypeError(`${Object.prototype.toString.call(value)} is not JSON-able`);
  if (frozen) serialized.set(value, s);
  return s;
}

/**
 * Freezes a JSON-able value and every object and array inside it, and returns it: what the
 * pipeline hands to {@linkcode canonicalJsonOnce} more than once (params, sources, runtimes).
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const digests = new WeakMap<object, string>();

/**
 * SHA-256 hex of `canonicalJsonOnce(value)`, memoized for frozen values: a key covers a kind's
 * sources (dozens of files) through this digest, so each key hashes a few hundred bytes, not the
 * whole list again.
 */
export function digestOnce(value: object): string {
  let d = digests.get(value);
  if (d !== undefined) return d;
  d = hash("sha256", canonicalJsonOnce(value), "hex");
  if (Object.isFrozen(value)) digests.set(value, d);
  return d;
}

/** Lower-case hex SHA-256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): Promise<string> {
  return Promise.resolve(sha256HexSync(data));
}

/**
 * {@linkcode sha256Hex} without the promise, for loops over a sweep's 10⁴ small files, where an
 * await per file costs more than its hash.
 */
export function sha256HexSync(data: string | Uint8Array): string {
  // node:crypto hashes synchronously in native code: about 5× faster than crypto.subtle's
  // round trip for the small inputs of keys and manifests; its one-shot `hash` skips the stream
  // object `createHash` builds (1.4 against 2.3 µs for a few hundred bytes).
  return hash("sha256", data, "hex");
}

/** SHA-256 of a file's bytes. */
export async function hashFile(path: string): Promise<string> {
  return await sha256Hex(await Deno.readFile(path));
}

/** Relative paths (with `/`) of every regular file under `dir`, sorted; symlinks are refused. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  // Synchronous: entries hold a handful of files, and a thread-pool round trip per call costs more.
  function walk(rel: string): void {
    for (const e of Deno.readDirSync(rel ? `${dir}/${rel}` : dir)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) walk(p);
      else if (e.isFile) out.push(p);
      else throw new Error(`${dir}/${p}: only regular files and directories can be artifacts`);
    }
  }
  walk("");
  return await Promise.resolve(out.sort());
}

/** Content of one file in a directory hash. */
export interface FileHash {
  /** SHA-256 of the bytes. */
  readonly sha256: string;
  /** Size in bytes. */
  readonly bytes: number;
}

/** Hashes every file under `dir` (relative path → hash and size), skipping the names in `exclude`. */
export async function hashDir(
  dir: string,
  opts: { exclude?: readonly string[] } = {},
): Promise<Record<string, FileHash>> {
  const out: Record<string, FileHash> = {};
  for (const rel of await listFiles(dir)) {
    if (opts.exclude?.includes(rel)) continue;
    const bytes = Deno.readFileSync(`${dir}/${rel}`);
    out[rel] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  }
  return out;
}
