/**
 * The content-addressed store: `<cacheDir>/<key>/` holds one stage instance's artifact files and a
 * `manifest.json` (written last). Entries are built in a temporary sibling directory
 * (`<key>.tmp`) and renamed into place, so a killed process never leaves a half-written entry
 * under its final name. An entry is trusted only after its manifest parses and every artifact's
 * SHA-256 matches; anything else is a miss.
 *
 * A *sweep entry* holds the instances of one group (the runs of one runs axis) computed together:
 * `<cacheDir>/<sweep key>/pack` holds the group's files back to back (pipeline/pack.ts), each
 * file with every member's part in it, and one `manifest.json` lists the files (hash, size and
 * offset in the pack), the content hash, the components the members share (written once) and each
 * member's id, key and params. The sweep key covers the shared components and every member's id
 * and params; a member's key is derived from it and its id, and its content hash is the group's,
 * so downstream keys, status and reruns still see one instance per run, while the whole group costs
 * one directory, two files, one lock, one index record and one hash per file (creating a file or
 * hashing one costs more than a small run's numerics).
 *
 * Writers serialize per key with an advisory lock on `<key>.lock` (released by the OS when the
 * process dies, so a SIGKILL never leaves a lock that blocks anyone). `<cacheDir>/index/` remembers,
 * per instance id (per group for a sweep), the key and key components of its last run, so a status
 * can say *what* changed.
 * @module
 */
import {
  canonicalJsonOnce,
  deepFreeze,
  digestOnce,
  type FileHash,
  hashDir,
  listFiles,
  sha256Hex,
  sha256HexSync,
} from "./hash.ts";
import type { PackIndex } from "./pack.ts";
import type { InputArtifact } from "./stage.ts";
import type { Json } from "./config.ts";

/** A failure the pipeline itself explains in one line (printed without a stack trace). */
export class PipelineError extends Error {
  /** @param message the one-line explanation */
  constructor(message: string) {
    super(message);
    this.name = "PipelineError";
  }
}

const reason = (e: unknown) => e instanceof Error ? e.message : String(e);

/** Manifest format version; a different one is treated as a miss. */
export const MANIFEST_FORMAT = 1;

/** One upstream artifact as it enters a key: the instance id, its params and its content hash. */
export interface InputRef {
  /** Upstream instance id. */
  readonly id: string;
  /** Upstream cache key (informational: only `hash` and `params` enter the key). */
  readonly key: string;
  /** Upstream content hash ({@linkcode Manifest.contentHash}). */
  readonly hash: string;
  /** Upstream params. */
  readonly params: Readonly<Record<string, Json>>;
}

/** Everything a cache key is computed from. */
export interface KeyComponents {
  /** Instance id (stages may write it into their outputs). */
  readonly id: string;
  /** Stage kind name. */
  readonly kind: string;
  /** Stage kind version. */
  readonly version: number;
  /** Instance params. */
  readonly params: Readonly<Record<string, Json>>;
  /** Role → upstream artifacts. */
  readonly inputs: Readonly<Record<string, readonly InputRef[]>>;
  /** Source file → SHA-256. */
  readonly sources: Readonly<Record<string, string>>;
  /** Runtime identity (backend, library versions …). */
  readonly runtime: Readonly<Record<string, string>>;
}

/** The record written last into every cache entry. */
export interface Manifest extends KeyComponents {
  /** {@linkcode MANIFEST_FORMAT}. */
  readonly format: number;
  /** The entry's key (its directory name). */
  readonly key: string;
  /** Artifact relative path → hash and size. */
  readonly artifacts: Readonly<Record<string, FileHash>>;
  /** SHA-256 of the canonical JSON of `artifacts`: what downstream keys depend on. */
  readonly contentHash: string;
  /** When the stage ran and how long it took. */
  readonly timings: {
    readonly started: string;
    readonly finished: string;
    readonly seconds: number;
  };
  /** Deno version that wrote the entry. */
  readonly deno: string;
  /** The key of the sweep entry holding this member (its group's files are in that entry's pack). */
  readonly sweep?: string;
  /** For a member of a sweep: each of its group's files' byte offset in the pack. */
  readonly offsets?: Readonly<Record<string, number>>;
  /** For a member of a sweep: its position in the group (`InputArtifact.member`). */
  readonly member?: number;
}

/** The key components the members of a sweep share: all but id and params. */
export type SharedComponents = Omit<KeyComponents, "id" | "params">;

/** One member as a sweep manifest lists it. */
interface SweepMember {
  readonly id: string;
  readonly key: string;
  readonly params: Readonly<Record<string, Json>>;
}

/** The record written last into a sweep entry. */
interface SweepManifest {
  readonly format: number;
  readonly key: string;
  /** The group's id (`StageInstance.group`). */
  readonly group: string;
  readonly shared: SharedComponents;
  /** The members, in the order of their parts in the group's files. */
  readonly members: readonly SweepMember[];
  /** The group's files: hash and size, and byte offset in the pack. */
  readonly artifacts: Readonly<Record<string, FileHash>>;
  readonly offsets: Readonly<Record<string, number>>;
  /** SHA-256 of the canonical JSON of `artifacts`, every member's content hash. */
  readonly contentHash: string;
  readonly timings: Manifest["timings"];
  readonly deno: string;
}

/** Why an entry cannot be used. */
type Unusable = {
  readonly ok: false;
  readonly state: "missing" | "corrupt";
  readonly reason: string;
};

/** Result of reading a sweep entry: every member's verified manifest, or why it cannot be used. */
export type SweepRead =
  | { readonly ok: true; readonly members: ReadonlyMap<string, Manifest> }
  | Unusable;

const corrupt = (reason: string): Unusable => ({ ok: false, state: "corrupt", reason });

function isUnusable<T>(m: T | Unusable): m is Unusable {
  return (m as Unusable).ok === false;
}

/** Result of reading an entry: a verified manifest or why it cannot be used. */
export type EntryRead =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly state: "missing" | "corrupt"; readonly reason: string };

/** A held per-key lock. */
export interface Lock {
  /** Releases the lock and removes the lock file. */
  release(): void;
}

/** What a key's leftovers say about it: a writer holds its lock now, or one died mid-write. */
export type Leftover = "running" | "incomplete" | null;

/**
 * Computes the cache key (SHA-256 hex) of an instance from its components: the SHA-256 of the
 * canonical JSON of `{id, kind, version, params, inputs (each ref's id, hash and params), sources
 * (their digest, {@linkcode digestOnce}), runtime}`.
 */
export function cacheKey(c: KeyComponents): Promise<string> {
  return Promise.resolve(cacheKeySync(c));
}

/** {@linkcode cacheKey} without the promise, for a sweep's 10⁴ members keyed in one loop. */
export function cacheKeySync(c: KeyComponents): string {
  return componentsHash(c, c.inputs, inputRefJson);
}

/** An input ref as a key covers it (its upstream key is only informational). */
function inputRefJson(r: InputRef): string {
  const q = JSON.stringify;
  return `{"hash":${q(r.hash)},"id":${q(r.id)},"params":${canonicalJsonOnce(r.params)}}`;
}

/**
 * SHA-256 of the canonical JSON of `{id, inputs, kind, params, runtime, sources (their digest),
 * version}`, each role of `inputs` a list of `entry`'s canonical JSON (a key's refs, a recipe's
 * upstream recipes). Written in sorted-key order directly: a fresh object per key, sorted and
 * walked again, cost three times as much over a sweep's 10⁴ members.
 */
export function componentsHash<T>(
  c: Pick<KeyComponents, "id" | "kind" | "version" | "params" | "sources" | "runtime">,
  inputs: Readonly<Record<string, readonly T[]>>,
  entry: (x: T) => string,
): string {
  const q = JSON.stringify;
  const roles = Object.keys(inputs).sort().map((role) =>
    `${q(role)}:[${inputs[role].map(entry).join(",")}]`
  );
  return sha256HexSync(
    `{"id":${q(c.id)},"inputs":{${roles.join(",")}},"kind":${q(c.kind)},"params":${
      canonicalJsonOnce(c.params)
    },"runtime":${canonicalJsonOnce(c.runtime)},"sources":${q(digestOnce(c.sources))},"version":${
      canonicalJsonOnce(c.version)
    }}`,
  );
}

/**
 * The key of the sweep entry of a group and its members' keys: the sweep key is the SHA-256 of the
 * group id, the hash of the components the members share ({@linkcode cacheKeySync} of the first
 * member without id and params) and every member's id and params, in plan order; a member's key
 * is the SHA-256 of the sweep key and its id. One hash over the group, not one per member.
 */
export function sweepKeys(
  group: string,
  members: readonly KeyComponents[],
): { key: string; members: string[] } {
  return sweepHashes(group, members, members[0].inputs, inputRefJson);
}

/**
 * {@linkcode sweepKeys} over members that share `inputs`, each role a list of `entry`'s JSON (a
 * key's refs; a recipe's upstream recipes).
 */
export function sweepHashes<T>(
  group: string,
  members: readonly Pick<
    KeyComponents,
    "id" | "kind" | "version" | "params" | "sources" | "runtime"
  >[],
  inputs: Readonly<Record<string, readonly T[]>>,
  entry: (x: T) => string,
): { key: string; members: string[] } {
  const q = JSON.stringify;
  const common = componentsHash({ ...members[0], id: "", params: {} }, inputs, entry);
  const lines = members.map((m) => `${q(m.id)}:${canonicalJsonOnce(m.params)}`);
  const key = sha256HexSync(
    `{"sweep":${q(group)},"shared":${q(common)},"members":{${lines.join(",")}}}`,
  );
  return { key, members: members.map((m) => sha256HexSync(`${key}\n${m.id}`)) };
}

/** An input ref as a manifest lists it (its params' canonical JSON, memoized). */
function inputRefText(r: InputRef): string {
  const q = JSON.stringify;
  return `{"id":${q(r.id)},"key":${q(r.key)},"hash":${q(r.hash)},"params":${
    canonicalJsonOnce(r.params)
  }}`;
}

/** The components a sweep's members share (all but id, params and their own key). */
function shared(c: KeyComponents & { key?: string }): SharedComponents {
  const { id: _id, params: _params, key: _key, ...rest } = c;
  return rest;
}

/**
 * The canonical JSON of an artifact list (`canonicalJson(artifacts)`, what a content hash covers),
 * written directly: names sorted, each `{"bytes":…,"sha256":…}`.
 */
export function artifactsJson(artifacts: Readonly<Record<string, FileHash>>): string {
  const q = JSON.stringify;
  const parts: string[] = [];
  for (const name of Object.keys(artifacts).sort()) {
    const a = artifacts[name];
    if (!Number.isSafeInteger(a.bytes) || typeof a.sha256 !== "string") {
      throw new TypeError(`artifact ${name}: not a size and a SHA-256`);
    }
    parts.push(`${q(name)}:{"bytes":${a.bytes},"sha256":${q(a.sha256)}}`);
  }
  return `{${parts.join(",")}}`;
}

/**
 * Whether two sets of shared components are equal (the sources of a kind are one object; a sweep's
 * members share their runtime and, when they read the same upstream, their refs).
 */
function sameShared(a: SharedComponents, b: SharedComponents): boolean {
  const same = (x: unknown, y: unknown) => x === y || canonicalJsonOnce(x) === canonicalJsonOnce(y);
  return a.kind === b.kind && a.version === b.version && same(a.sources, b.sources) &&
    same(a.runtime, b.runtime) && sameInputs(a.inputs, b.inputs);
}

/** Whether two instances read the same upstream entries (an entry's key covers its params). */
function sameInputs(a: KeyComponents["inputs"], b: KeyComponents["inputs"]): boolean {
  if (a === b) return true;
  const roles = Object.keys(a);
  if (roles.length !== Object.keys(b).length) return false;
  return roles.every((role) => {
    const x = a[role], y = b[role];
    return y !== undefined && x.length === y.length &&
      x.every((r, i) => r.id === y[i].id && r.key === y[i].key && r.hash === y[i].hash);
  });
}

const KEY_RE = /^[0-9a-f]{64}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The store under one directory. Small metadata operations (manifests, locks, index records) use
 * the synchronous file API: stages compute in workers, and an asynchronous call per operation
 * costs a thread-pool round trip that, over 10⁴ stages, outweighs the operations themselves.
 */
export class Cache {
  /** Keys verified (or written) by this process: an entry is hashed at most once per process. */
  private readonly verified = new Map<string, Manifest>();

  /** Sweep keys verified (or written) by this process, with their members' manifests by key. */
  private readonly sweeps = new Map<string, Map<string, Manifest>>();

  /** Each sweep's pack as its members' inputs see it, by sweep key. */
  private readonly packs = new Map<string, NonNullable<InputArtifact["pack"]>>();

  /** Directories this process has created or found (a `mkdir` per stage adds up over 10⁴). */
  private readonly made = new Set<string>();

  /** @param dir cache directory (created on first write) */
  constructor(readonly dir: string) {}

  private ensureDir(dir: string): void {
    if (this.made.has(dir)) return;
    Deno.mkdirSync(dir, { recursive: true });
    this.made.add(dir);
  }

  /** Directory of the entry for `key`. */
  entryDir(key: string): string {
    return `${this.dir}/${key}`;
  }

  /** Directory of an entry's files, or of the sweep entry holding a member. */
  dirOf(m: Pick<Manifest, "key" | "sweep">): string {
    return this.entryDir(m.sweep ?? m.key);
  }

  /** For a member of a sweep: its pack file and where each of its group's files lies in it. */
  packOf(m: Manifest): InputArtifact["pack"] {
    if (m.sweep === undefined) return undefined;
    let pack = this.packs.get(m.sweep);
    if (pack === undefined) {
      const files: Record<string, { offset: number; bytes: number }> = {};
      for (const [name, h] of Object.entries(m.artifacts)) {
        files[name] = { offset: m.offsets![name], bytes: h.bytes };
      }
      // One object per sweep, shared by its members (and frozen: they are many readers).
      pack = deepFreeze({ path: `${this.entryDir(m.sweep)}/pack`, files });
      this.packs.set(m.sweep, pack);
    }
    return pack;
  }

  /**
   * An entry's manifest, parsed and of this format and key and accepted by `valid`, or why it
   * cannot be used.
   */
  private manifestOf<T extends { format: number; key: string }>(
    key: string,
    what: string,
    valid: (m: T) => boolean,
  ): T | Unusable {
    const dir = this.entryDir(key);
    let text: string;
    try {
      text = Deno.readTextFileSync(`${dir}/manifest.json`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      return existsSync(dir) ? corrupt("manifest.json is missing") : {
        ok: false,
        state: "missing",
        reason: "no entry",
      };
    }
    let m: T;
    try {
      m = JSON.parse(text);
    } catch {
      return corrupt("manifest.json does not parse");
    }
    if (
      typeof m !== "object" || m === null || m.format !== MANIFEST_FORMAT || m.key !== key ||
      !valid(m)
    ) {
      return corrupt(`manifest.json is not a valid ${what} for this key`);
    }
    return m;
  }

  /** Reads and verifies an entry; never throws for a damaged entry (it is reported as corrupt). */
  async read(key: string): Promise<EntryRead> {
    const known = this.verified.get(key);
    if (known) return { ok: true, manifest: known };
    const dir = this.entryDir(key);
    const m = this.manifestOf<Manifest>(
      key,
      "manifest",
      (m) =>
        typeof m.artifacts === "object" && m.artifacts !== null &&
        typeof m.contentHash === "string",
    );
    if (isUnusable(m)) return m;
    let actual: Record<string, FileHash>;
    try {
      actual = await hashDir(dir, { exclude: ["manifest.json"] });
    } catch (e) {
      return corrupt(`cannot hash its files (${(e as Error).message})`);
    }
    for (const [rel, h] of Object.entries(m.artifacts)) {
      if (!actual[rel]) return corrupt(`artifact ${rel} is missing`);
      if (actual[rel].sha256 !== h?.sha256) {
        return corrupt(`artifact ${rel} does not match its hash`);
      }
    }
    const extra = Object.keys(actual).find((rel) => !(rel in m.artifacts));
    if (extra !== undefined) return corrupt(`unexpected file ${extra}`);
    if (await sha256Hex(canonicalJsonOnce(m.artifacts)) !== m.contentHash) {
      return corrupt("manifest content hash does not match its artifacts");
    }
    this.verified.set(key, m);
    return { ok: true, manifest: m };
  }

  /**
   * Reads and verifies a sweep entry: the group's files must match their hashes and tile the pack,
   * and nothing else may be there. Never throws for a damaged entry (it is reported as corrupt).
   */
  async readSweep(key: string): Promise<SweepRead> {
    const known = this.sweeps.get(key);
    if (known) return { ok: true, members: known };
    const m = this.manifestOf<SweepManifest>(
      key,
      "sweep manifest",
      (m) =>
        Array.isArray(m.members) && typeof m.shared === "object" && m.shared !== null &&
        typeof m.artifacts === "object" && m.artifacts !== null &&
        typeof m.offsets === "object" && m.offsets !== null,
    );
    if (isUnusable(m)) return m;
    const dir = this.entryDir(key);
    let pack: Uint8Array;
    try {
      const files = await listFiles(dir);
      const extra = files.find((f) => f !== "manifest.json" && f !== "pack");
      if (extra !== undefined) return corrupt(`unexpected file ${extra}`);
      pack = files.includes("pack") ? Deno.readFileSync(`${dir}/pack`) : new Uint8Array(0);
    } catch (e) {
      return corrupt(`cannot read its files (${(e as Error).message})`);
    }
    let covered = 0;
    for (const [rel, h] of Object.entries(m.artifacts) as [string, FileHash][]) {
      const at = m.offsets[rel];
      if (!Number.isInteger(at) || at < 0 || at + h.bytes > pack.length) {
        return corrupt(`artifact ${rel} lies outside the pack`);
      }
      if (sha256HexSync(pack.subarray(at, at + h.bytes)) !== h.sha256) {
        return corrupt(`artifact ${rel} does not match its hash`);
      }
      covered += h.bytes;
    }
    // The files are laid out back to back: any other byte is not theirs.
    if (covered !== pack.length) return corrupt("the pack holds bytes no file lists");
    if (sha256HexSync(artifactsJson(m.artifacts)) !== m.contentHash) {
      return corrupt("manifest content hash does not match its artifacts");
    }
    const members = new Map<string, Manifest>();
    for (const [i, member] of m.members.entries()) {
      if (typeof member?.id !== "string" || typeof member.key !== "string") {
        return corrupt("manifest.json is not a valid sweep manifest for this key");
      }
      members.set(member.key, this.memberManifest(m, member, i));
    }
    this.remember(key, members);
    return { ok: true, members };
  }

  private memberManifest(m: SweepManifest, member: SweepMember, at: number): Manifest {
    return {
      format: MANIFEST_FORMAT,
      ...m.shared,
      id: member.id,
      key: member.key,
      params: member.params,
      artifacts: m.artifacts,
      contentHash: m.contentHash,
      timings: m.timings,
      deno: m.deno,
      sweep: m.key,
      offsets: m.offsets,
      member: at,
    };
  }

  private remember(key: string, members: Map<string, Manifest>): void {
    this.sweeps.set(key, members);
    for (const [k, manifest] of members) this.verified.set(k, manifest);
  }

  /**
   * Takes the exclusive lock of `key` (any name; entry keys lock entries), polling while another process (or another task of this one)
   * holds it; `onWait` is called once if it has to wait.
   */
  async lock(key: string, onWait?: () => void): Promise<Lock> {
    this.ensureDir(this.dir);
    const path = `${this.dir}/${key}.lock`;
    let waited = false;
    for (;;) {
      const f = Deno.openSync(path, { create: true, write: true });
      if (!f.tryLockSync(true)) {
        f.close();
        if (!waited) onWait?.();
        waited = true;
        await sleep(100);
        continue;
      }
      // The holder removes the file before unlocking; if our file is no longer the one at `path`,
      // we locked an orphan and must start over (otherwise two processes could both "hold" it).
      const mine = f.statSync();
      let current: Deno.FileInfo | null = null;
      try {
        current = Deno.statSync(path);
      } catch {
        // removed by its holder meanwhile
      }
      if (current === null || current.ino !== mine.ino) {
        f.close();
        continue;
      }
      f.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      return {
        release() {
          try {
            Deno.removeSync(path);
          } catch (e) {
            if (!(e instanceof Deno.errors.NotFound)) throw e;
          } finally {
            f.close();
          }
        },
      };
    }
  }

  /**
   * Takes the store-wide lock `<cacheDir>/cache.lock`: `shared` for every command that runs stages
   * (any number at once), `exclusive` for `clean` (no stage runs while it deletes). With `wait`
   * false, resolves to null instead of waiting when the other mode holds it; otherwise polls,
   * calling `onWait` once if it has to wait. The file itself stays (removing a locked file would
   * let a second holder lock a new one).
   */
  async use(
    mode: "shared" | "exclusive",
    opts: { wait?: boolean; onWait?: () => void } = {},
  ): Promise<Lock | null> {
    this.ensureDir(this.dir);
    const f = await Deno.open(`${this.dir}/cache.lock`, { create: true, write: true });
    let waited = false;
    while (!(await f.tryLock(mode === "exclusive"))) {
      if (opts.wait === false) {
        f.close();
        return null;
      }
      if (!waited) opts.onWait?.();
      waited = true;
      await sleep(100);
    }
    return { release: () => f.close() };
  }

  /** Whether a writer is working on `key` now, or one died leaving a lock file or temp directory. */
  leftover(key: string): Promise<Leftover> {
    return Promise.resolve(this.leftoverNow(key));
  }

  private leftoverNow(key: string): Leftover {
    const lockPath = `${this.dir}/${key}.lock`;
    let lockFile = false;
    try {
      const f = Deno.openSync(lockPath, { read: true });
      lockFile = true;
      try {
        if (!f.tryLockSync(true)) return "running";
      } finally {
        f.close();
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (lockFile) return "incomplete";
    return this.temporaries(key).length > 0 ? "incomplete" : null;
  }

  /**
   * Removes what a killed writer left next to a usable entry (it can die after renaming the entry
   * into place but before releasing its lock), so that leftovers always mean "incomplete". Returns
   * a one-line warning when a leftover cannot be removed (the entry itself stays usable).
   */
  async tidy(key: string): Promise<string | null> {
    if ((await this.leftover(key)) !== "incomplete") return null;
    const lock = await this.lock(key);
    try {
      for (const name of this.temporaries(key)) {
        await Deno.remove(`${this.dir}/${name}`, { recursive: true });
      }
      return null;
    } catch (e) {
      return `cannot remove leftovers of ${this.entryDir(key)} (${reason(e)})`;
    } finally {
      lock.release();
    }
  }

  /**
   * Names of the temporary directories of `key` that exist (`<key>.tmp`, `<key>.old`). Fixed names
   * (only the lock holder writes them) make this two `lstat`s, not a scan of the whole cache.
   */
  private temporaries(key: string): string[] {
    const out: string[] = [];
    for (const name of [`${key}.tmp`, `${key}.old`]) {
      if (existsSync(`${this.dir}/${name}`)) out.push(name);
    }
    return out;
  }

  /**
   * Creates an empty temporary directory for building `key`, first removing what killed writers
   * left behind. Call only while holding the key's lock (then no live writer owns those leftovers).
   */
  async begin(key: string): Promise<string> {
    for (const name of this.temporaries(key)) {
      try {
        await Deno.remove(`${this.dir}/${name}`, { recursive: true });
      } catch (e) {
        throw new PipelineError(
          `cannot remove ${this.dir}/${name}, left by an interrupted run (${reason(e)}); ` +
            `make it writable or remove it, then rerun`,
        );
      }
    }
    try {
      this.ensureDir(this.dir);
      const tmp = `${this.dir}/${key}.tmp`;
      Deno.mkdirSync(tmp);
      return tmp;
    } catch (e) {
      throw new PipelineError(`cannot write into the cache ${this.dir} (${reason(e)})`);
    }
  }

  /**
   * Hashes the files a stage wrote into `tmp`, writes the manifest last and renames the directory
   * into place (replacing a corrupt or forced-out entry). Call only while holding the key's lock.
   */
  async commit(
    key: string,
    tmp: string,
    meta: KeyComponents & { timings: Manifest["timings"] },
  ): Promise<Manifest> {
    const artifacts = await hashDir(tmp);
    if ("manifest.json" in artifacts) {
      throw new Error(
        `${meta.id}: the stage wrote manifest.json, a name reserved for the pipeline`,
      );
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      key,
      ...meta,
      artifacts,
      contentHash: await sha256Hex(canonicalJsonOnce(artifacts)),
      deno: Deno.version.deno,
    };
    // The directory is renamed into place after this write: no temporary file needed inside it.
    // Compact, and the inputs written from their memoized canonical params: a gather over 10⁴
    // runs lists every input's params (pretty, 19 MB), which JSON.stringify serialized again.
    const { inputs, ...head } = manifest;
    const roles = Object.entries(inputs).map(([role, refs]) =>
      `${JSON.stringify(role)}:[${refs.map(inputRefText).join(",")}]`
    );
    const text = JSON.stringify(head);
    Deno.writeTextFileSync(
      `${tmp}/manifest.json`,
      `${text.slice(0, -1)},"inputs":{${roles.join(",")}}}\n`,
    );
    await this.install(key, tmp);
    this.verified.set(key, manifest);
    return manifest;
  }

  /**
   * Commits a sweep entry: `tmp/pack` holds the group's files as `packed` lays them out and hashes
   * them (the writer's hashes are taken from the bytes it wrote and checked on every read); the
   * members (in the order of their parts in the files) share every key component but id and
   * params. Call only while holding the sweep key's lock. Returns each member's manifest, in the
   * order given.
   */
  async commitSweep(
    key: string,
    tmp: string,
    sweep: {
      group: string;
      members: readonly (KeyComponents & { key: string })[];
      packed: PackIndex;
      timings: Manifest["timings"];
    },
  ): Promise<Manifest[]> {
    const files = await listFiles(tmp);
    const stray = files.find((f) => f !== "pack");
    if (stray !== undefined) {
      throw new Error(
        `${sweep.members[0].id}: a group's stage wrote ${stray} outside its pack`,
      );
    }
    const packBytes = files.length ? Deno.statSync(`${tmp}/pack`).size : 0;
    const common = shared(sweep.members[0]);
    const artifacts: Record<string, FileHash> = {};
    const offsets: Record<string, number> = {};
    // The writer lays out the files by name and must tile the pack exactly.
    let laid = 0, last = "";
    for (const name in sweep.packed) {
      const at = sweep.packed[name];
      if (at.offset !== laid || name <= last) {
        throw new Error(`${sweep.group}: artifact ${name} is not where the pack's layout puts it`);
      }
      last = name;
      laid += at.bytes;
      artifacts[name] = { sha256: at.sha256, bytes: at.bytes };
      offsets[name] = at.offset;
    }
    if (laid !== packBytes) {
      throw new Error(`${sweep.group}: the pack holds ${packBytes} bytes, its files list ${laid}`);
    }
    const artifactsText = artifactsJson(artifacts);
    const contentHash = sha256HexSync(artifactsText);
    // Each member's line of the manifest, written as text: its params' canonical JSON is already
    // memoized, where serializing the whole manifest again took as long as building it.
    const lines: string[] = [];
    const members: SweepMember[] = [];
    const q = JSON.stringify;
    for (const c of sweep.members) {
      if (!sameShared(common, c)) {
        throw new Error(
          `${c.id}: a sweep's members must share all key components but id and params`,
        );
      }
      members.push({ id: c.id, key: c.key, params: c.params });
      lines.push(`{"id":${q(c.id)},"key":${q(c.key)},"params":${canonicalJsonOnce(c.params)}}`);
    }
    const manifest: SweepManifest = {
      format: MANIFEST_FORMAT,
      key,
      group: sweep.group,
      shared: common,
      members,
      artifacts,
      offsets,
      contentHash,
      timings: sweep.timings,
      deno: Deno.version.deno,
    };
    const { members: _, ...head } = manifest;
    const text = JSON.stringify(head);
    Deno.writeTextFileSync(
      `${tmp}/manifest.json`,
      `${text.slice(0, -1)},"members":[${lines.join(",")}]}\n`,
    );
    await this.install(key, tmp);
    const out = new Map(members.map((m, i) => [m.key, this.memberManifest(manifest, m, i)]));
    this.remember(key, out);
    return sweep.members.map((c) => out.get(c.key)!);
  }

  /** Renames a built directory into place as the entry `key`, replacing an unusable one. */
  private async install(key: string, tmp: string): Promise<void> {
    const final = this.entryDir(key);
    if (existsSync(final)) {
      const old = `${final}.old`;
      try {
        Deno.renameSync(final, old);
      } catch (e) {
        throw new PipelineError(
          `cannot replace the unusable cache entry ${final} (${reason(e)}); ` +
            `make it writable or remove it, then rerun`,
        );
      }
      Deno.renameSync(tmp, final);
      // The new entry is in place; an old one that cannot be deleted is only clutter for clean.
      await Deno.remove(old, { recursive: true }).catch(() => {});
    } else {
      Deno.renameSync(tmp, final);
    }
  }

  /** Removes a temporary build directory (after a failed stage). */
  async abort(tmp: string): Promise<void> {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  /**
   * The key components of the last run of instance `id`, if any; for a member of a sweep, pass its
   * group (the record is the group's).
   */
  readIndex(id: string, group?: string): Promise<(KeyComponents & { key: string }) | null> {
    if (group !== undefined) return Promise.resolve(this.readGroupIndex(group).get(id) ?? null);
    try {
      return Promise.resolve(JSON.parse(Deno.readTextFileSync(this.indexPath(id))));
    } catch {
      // A damaged index only costs the "what changed" detail: treat it as absent.
      return Promise.resolve(null);
    }
  }

  /** The last run's key components of every member of a sweep's group, by member id. */
  readGroupIndex(group: string): Map<string, KeyComponents & { key: string }> {
    try {
      const rec = JSON.parse(Deno.readTextFileSync(this.indexPath(group)));
      const members = rec.members as { id: string; key: string; params: Record<string, Json> }[];
      return new Map(members.map((m) => [m.id, { ...rec.shared, ...m }]));
    } catch {
      return new Map();
    }
  }

  /**
   * Records the sweep `key` as the last entry of `group`, with its members' keys and params (the
   * sweep's manifest, linked).
   */
  writeSweepIndex(
    key: string,
    group: string,
    members: readonly (KeyComponents & { key: string })[],
  ): void {
    this.index(this.indexPath(group), key, () => ({
      key,
      group,
      shared: shared(members[0]),
      members: members.map((m) => ({ id: m.id, key: m.key, params: m.params })),
    }));
  }

  /** Records `key` as the last key of instance `id` (its manifest, linked). */
  writeIndex(key: string, c: KeyComponents): Promise<void> {
    this.index(this.indexPath(c.id), key, () => ({ key, ...c }));
    return Promise.resolve();
  }

  /**
   * Makes the manifest of entry `key` the index record at `path`, as a hard link: a manifest holds
   * every field of the record (key components, key; a sweep's shared part and members) and an
   * entry is never changed in place, and a link costs a directory entry where a copy costs a new
   * file (0.02 against 0.4 ms on the machine of the README's sweep timings, once per stage or
   * group). Where the file system has no hard links, `record()` is written instead.
   */
  private index(path: string, key: string, record: () => unknown): void {
    this.ensureDir(`${this.dir}/index`);
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      Deno.linkSync(`${this.entryDir(key)}/manifest.json`, tmp);
      Deno.renameSync(tmp, path);
    } catch {
      try {
        Deno.removeSync(tmp);
      } catch {
        // never linked
      }
      writeFileAtomicSync(path, JSON.stringify(record()) + "\n");
    }
  }

  private indexPath(id: string): string {
    return `${this.dir}/index/${encodeURIComponent(id)}.json`;
  }

  /** Keys of every entry directory in the store. */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (e.isDirectory && KEY_RE.test(e.name)) out.push(e.name);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out.sort();
  }

  /**
   * Removes every entry whose key is not in `keep` (all of them when `keep` is empty), leftovers of
   * killed writers and index records pointing at removed entries. Entries being written now are
   * skipped. Returns the number of entries removed.
   */
  async clean(keep: ReadonlySet<string> = new Set()): Promise<number> {
    let removed = 0;
    const failed: string[] = [];
    for (const key of await this.keys()) {
      if (keep.has(key) || (await this.leftover(key)) === "running") continue;
      try {
        await Deno.remove(this.entryDir(key), { recursive: true });
      } catch (e) {
        failed.push(`${this.entryDir(key)} (${reason(e)})`);
        continue;
      }
      this.verified.delete(key);
      this.sweeps.delete(key);
      removed++;
    }
    if (failed.length > 0) {
      throw new PipelineError(
        `removed ${removed} cache entries; could not remove ${failed.length}, first ${failed[0]}`,
      );
    }
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.dir)) names.push(e.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return removed;
      throw e;
    }
    for (const name of names) {
      // `.tmp-*`, `.old-*`: the unique names of earlier versions.
      const m = /^([0-9a-f]{64})\.(tmp|old|lock$)/.exec(name);
      if (m && (await this.leftover(m[1])) !== "running") {
        await Deno.remove(`${this.dir}/${name}`, { recursive: true }).catch(() => {});
      }
    }
    try {
      for await (const e of Deno.readDir(`${this.dir}/index`)) {
        const rec = await this.readIndex(decodeURIComponent(e.name.replace(/\.json$/, "")));
        if (!rec || !(await Deno.stat(this.entryDir(rec.key)).then(() => true, () => false))) {
          await Deno.remove(`${this.dir}/index/${e.name}`).catch(() => {});
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return removed;
  }
}

/** Whether a path exists (without following a final symlink). */
function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** {@linkcode writeFileAtomic} for small files, synchronously. */
function writeFileAtomicSync(path: string, data: string): void {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, data);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never written
    }
    throw e;
  }
}

/** Writes a file through a temporary sibling and a rename, so readers never see a partial file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
