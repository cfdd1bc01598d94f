/**
 * Path flags and files named on the command line, checked before anything runs.
 *
 * Deno checks its permissions on path strings, so a symlink inside the repository could send reads
 * or writes anywhere the link points. Every path the CLI reads or writes (the experiment file, the
 * cache and results directories) is resolved to its real path first: a path written inside the
 * repository whose real path leaves it is refused. A path written outside the repository is the
 * documented opt-in (README, Permissions): it is used only when Deno's permissions for this process
 * cover it, real path included, so a task's `--allow-read`/`--allow-write` list stays the truth.
 * @module
 */
import { isAbsolute, join, normalize, sep } from "node:path";
import { ConfigError } from "./config.ts";

/** Options for {@linkcode confinePath}. */
export interface ConfineOptions {
  /** How the path was given, for messages, e.g. `--cache-dir`. */
  readonly what: string;
  /** What the command does there. */
  readonly access: "read" | "write";
  /** The repository (default: the working directory). */
  readonly root?: string;
  /**
   * A directory the command creates anyway: when an ancestor cannot be read (only the directory
   * itself is permitted), it is created first so that its real path can be resolved.
   */
  readonly create?: boolean;
}

/** Whether `path` is `dir` or below it (both absolute and normalized). */
export function isInside(path: string, dir: string): boolean {
  const d = dir.endsWith(sep) ? dir : dir + sep;
  return path === dir || path.startsWith(d);
}

/**
 * The real path of `abs`: its longest existing ancestor resolved with `realPath`, plus the rest
 * (which does not exist yet and so cannot be a link). Throws the permission error of `realPath`.
 */
export function realPathOf(abs: string): string {
  const parts = abs.split(sep).filter((p) => p !== "");
  for (let n = parts.length; n >= 0; n--) {
    const head = sep + parts.slice(0, n).join(sep);
    let real: string;
    try {
      real = Deno.realPathSync(head);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) throw e;
      // Present but unresolvable: a link to nothing, which a write would follow anywhere.
      let link = false;
      try {
        link = Deno.lstatSync(head).isSymlink;
      } catch {
        // absent: keep walking up
      }
      if (link) throw new DanglingLink(head);
      continue;
    }
    return normalize(join(real, ...parts.slice(n)));
  }
  return abs;
}

/** A symlink whose target does not exist. */
class DanglingLink extends Error {}

function granted(access: "read" | "write", path: string): boolean {
  return Deno.permissions.querySync({ name: access, path }).state === "granted";
}

function permissionHint(access: "read" | "write", path: string): string {
  return `this process has no --allow-${access} for ${path} (see README, Permissions)`;
}

/**
 * Checks a path the CLI is about to read or write; returns its absolute form. Throws a
 * {@linkcode ConfigError} (one line, exit code 2) when a symlink takes a path written inside the
 * repository out of it, or when Deno's permissions do not cover the path or its real path.
 */
export function confinePath(path: string, opts: ConfineOptions): string {
  const cwd = Deno.cwd();
  const root = normalize(opts.root ?? cwd);
  const abs = normalize(isAbsolute(path) ? path : join(cwd, path));
  const where = `${opts.what} ${path}`;
  if (!granted(opts.access, abs)) {
    throw new ConfigError(`${where}: ${permissionHint(opts.access, abs)}`);
  }
  let real: string, rootReal: string;
  try {
    rootReal = realPathOf(root);
    try {
      real = realPathOf(abs);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotCapable && opts.create && opts.access === "write")) throw e;
      Deno.mkdirSync(abs, { recursive: true });
      real = Deno.realPathSync(abs);
    }
  } catch (e) {
    if (e instanceof DanglingLink) {
      throw new ConfigError(
        `${where}: ${e.message} is a symlink to nothing; refusing to follow it`,
      );
    }
    if (e instanceof Deno.errors.NotCapable) {
      // Deno grants some paths (/dev, /proc, /sys) only to a process run with --allow-all,
      // whatever its --allow-read says.
      if (/--allow-all/.test((e as Error).message)) {
        throw new ConfigError(
          `${where}: Deno lets a process resolve this path only with --allow-all (as for /dev, ` +
            `/proc and /sys); name a directory elsewhere`,
        );
      }
      throw new ConfigError(
        `${where}: ${permissionHint("read", abs)}, needed to resolve symlinks in it`,
      );
    }
    throw new ConfigError(`${where}: cannot resolve it (${(e as Error).message})`);
  }
  const written = isInside(abs, root) || isInside(abs, rootReal);
  if (written && !isInside(real, rootReal)) {
    throw new ConfigError(
      `${where}: a symlink takes it outside the repository (to ${real}); refusing. ` +
        `Name a directory outside the repository directly (README, Permissions)`,
    );
  }
  if (real !== abs && !granted(opts.access, real)) {
    throw new ConfigError(
      `${where}: it resolves to ${real}, and ${permissionHint(opts.access, real)}`,
    );
  }
  return abs;
}
