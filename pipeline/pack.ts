/**
 * Packed artifacts: a group computed together (a sweep entry) writes its files into one `pack` file
 * (back to back, by name) instead of a file each, since creating a file costs far more than the few
 * kilobytes a group of small runs writes. The group's files are the group's, not a member's: each
 * holds every member's part (a stage's own layout, e.g. a `member` column; stages/artifacts.ts), so
 * a member costs rows, not files, hashes or manifest entries. A stage writes through
 * `StageContext.write` and reads through {@linkcode readArtifact}, and never sees the difference;
 * {@linkcode writeToDir} is `write` for an instance with a directory of its own.
 * @module
 */
import type { InputArtifact } from "./stage.ts";
import { sha256HexSync } from "./hash.ts";

/** Where one packed file lies in its pack. */
export interface PackedFile {
  /** Byte offset in the pack. */
  readonly offset: number;
  /** Length in bytes. */
  readonly bytes: number;
  /**
   * SHA-256 of the bytes, taken by the writer from the bytes it wrote: the commit (in the main
   * thread) then needs neither to read the pack back nor to hash it while the workers wait.
   */
  readonly sha256: string;
}

/** File name → where it lies in the pack. */
export type PackIndex = Record<string, PackedFile>;

/** Names a stage may give an artifact: a relative path of plain segments. */
const NAME_RE = /^(?!\.{1,2}(\/|$))[A-Za-z0-9_.-]+(\/(?!\.{1,2}(\/|$))[A-Za-z0-9_.-]+)*$/;

/** Throws unless `name` is a plain relative path (no `..`, no absolute path, no empty segment). */
export function checkArtifactName(name: string): void {
  if (!NAME_RE.test(name) || name === "manifest.json") {
    throw new Error(`artifact name ${JSON.stringify(name)} is not a plain relative file name`);
  }
}

const encoder = new TextEncoder();

/** Collects the files of a group in memory and writes them as one pack. */
export class PackWriter {
  readonly #files = new Map<string, Uint8Array>();

  /** Adds one file; a second of the same name is an error (a group writes one set of files). */
  add(name: string, data: string | Uint8Array): void {
    checkArtifactName(name);
    if (this.#files.has(name)) {
      throw new Error(`a group's stage wrote ${name} twice (a group writes one set of files)`);
    }
    this.#files.set(name, typeof data === "string" ? encoder.encode(data) : data.slice());
  }

  /**
   * Writes the pack to `path` (nothing when no file was written) and returns its index, with each
   * file's hash.
   */
  async write(path: string): Promise<PackIndex> {
    const index: PackIndex = {};
    let offset = 0;
    const names = [...this.#files.keys()].sort();
    for (const name of names) {
      const bytes = this.#files.get(name)!;
      index[name] = { offset, bytes: bytes.length, sha256: sha256HexSync(bytes) };
      offset += bytes.length;
    }
    if (offset === 0) return index;
    const all = new Uint8Array(offset);
    for (const name of names) all.set(this.#files.get(name)!, index[name].offset);
    await Deno.writeFile(path, all);
    return index;
  }
}

/** `StageContext.write` for an instance with a directory of its own. */
export function writeToDir(
  dir: string,
): (name: string, data: string | Uint8Array) => Promise<void> {
  return async (name, data) => {
    checkArtifactName(name);
    const path = `${dir}/${name}`;
    if (name.includes("/")) {
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    }
    if (typeof data === "string") await Deno.writeTextFile(path, data);
    else await Deno.writeFile(path, data);
  };
}

/**
 * The bytes of artifact `name` of an upstream instance (packed or in its own directory), or of
 * `opts.bytes` of them from `opts.start`: a group's member reads its own part of a file the group
 * shares, not the whole file once per member.
 */
export async function readArtifact(
  a: InputArtifact,
  name: string,
  opts: { start?: number; bytes?: number } = {},
): Promise<Uint8Array> {
  if (opts.start === undefined && opts.bytes === undefined) {
    if (a.pack === undefined) return await Deno.readFile(`${a.dir}/${name}`);
    using f = Deno.openSync(a.pack.path, { read: true });
    return await Promise.resolve(readRange(f, a, name));
  }
  const path = a.pack === undefined ? `${a.dir}/${name}` : a.pack.path;
  using f = Deno.openSync(path, { read: true });
  const at = a.pack === undefined ? { offset: 0, bytes: f.statSync().size } : where(a, name);
  const start = opts.start ?? 0;
  const bytes = opts.bytes ?? at.bytes - start;
  if (
    !(Number.isInteger(start) && Number.isInteger(bytes) && start >= 0 && bytes >= 0) ||
    start + bytes > at.bytes
  ) {
    throw new RangeError(
      `${a.id}'s ${name}: bytes ${start}…${start + bytes} are outside its ${at.bytes} bytes`,
    );
  }
  return await Promise.resolve(readBytes(f, at.offset + start, bytes, path));
}

/** The size in bytes of artifact `name` of an upstream instance. */
export async function artifactBytes(a: InputArtifact, name: string): Promise<number> {
  if (a.pack === undefined) return (await Deno.stat(`${a.dir}/${name}`)).size;
  return where(a, name).bytes;
}

/**
 * Artifact `name` of each upstream instance, as UTF-8 text, in order: each pack is opened once for
 * all its members (a gather over a sweep's runs costs a read per run, not an open per run).
 */
export async function readArtifactsText(
  as: readonly InputArtifact[],
  name: string,
): Promise<string[]> {
  const out: string[] = new Array(as.length);
  const byPack = new Map<string, number[]>();
  for (const [i, a] of as.entries()) {
    if (a.pack === undefined) out[i] = await Deno.readTextFile(`${a.dir}/${name}`);
    else {
      if (!byPack.has(a.pack.path)) byPack.set(a.pack.path, []);
      byPack.get(a.pack.path)!.push(i);
    }
  }
  const decoder = new TextDecoder();
  for (const [path, members] of byPack) {
    using f = Deno.openSync(path, { read: true });
    const ranges = members.map((i) => where(as[i], name));
    let start = Infinity, end = 0, wanted = 0;
    for (const r of ranges) {
      start = Math.min(start, r.offset);
      end = Math.max(end, r.offset + r.bytes);
      wanted += r.bytes;
    }
    const span = end - start;
    if (span <= Math.max(2 * wanted, ONE_READ_BYTES)) {
      // One read for the pack's stretch: a seek and a read per member cost more than the bytes
      // between them (a sweep's small runs), unless other artifacts (checkpoints) dwarf them.
      const bytes = readBytes(f, start, span, path);
      // The members of a group share its files: each file is decoded once.
      const texts = new Map<number, string>();
      members.forEach((i, k) => {
        const at = ranges[k].offset - start;
        let text = texts.get(at);
        if (text === undefined) {
          texts.set(at, text = decoder.decode(bytes.subarray(at, at + ranges[k].bytes)));
        }
        out[i] = text;
      });
    } else {
      for (const [k, i] of members.entries()) {
        out[i] = decoder.decode(readBytes(f, ranges[k].offset, ranges[k].bytes, path));
      }
    }
  }
  return out;
}

/** Stretches of a pack up to this size are read at once even when mostly unwanted. */
const ONE_READ_BYTES = 1 << 20;

/** Where a packed artifact lies in its pack. */
function where(a: InputArtifact, name: string): { offset: number; bytes: number } {
  const at = a.pack!.files[name];
  if (at === undefined) {
    throw new Deno.errors.NotFound(`${a.id} has no artifact ${name} (in ${a.pack!.path})`);
  }
  return at;
}

/** `bytes` bytes from `offset` of an open file. */
function readBytes(f: Deno.FsFile, offset: number, bytes: number, path: string): Uint8Array {
  f.seekSync(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(bytes);
  let at = 0;
  while (at < out.length) {
    const n = f.readSync(out.subarray(at));
    if (n === null) throw new Error(`${path} ends before byte ${offset + bytes}`);
    at += n;
  }
  return out;
}

/** One packed artifact's bytes from an open pack. */
function readRange(f: Deno.FsFile, a: InputArtifact, name: string): Uint8Array {
  const at = where(a, name);
  return readBytes(f, at.offset, at.bytes, a.pack!.path);
}

/** {@linkcode readArtifact} as UTF-8 text. */
export async function readArtifactText(a: InputArtifact, name: string): Promise<string> {
  return new TextDecoder().decode(await readArtifact(a, name));
}
