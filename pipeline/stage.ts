/**
 * The contract between the pipeline and the stage modules under `stages/`.
 *
 * The pipeline knows nothing about what a stage computes: it hands each stage instance its params,
 * its upstream artifact directories and an empty output directory, and caches whatever files the
 * stage writes there under a key derived from everything that can change them.
 * @module
 */
import type { Json } from "./config.ts";
import { canonicalJsonOnce } from "./hash.ts";

/** A finished upstream stage instance as seen by a downstream stage (its cache directory is read-only). */
export interface InputArtifact {
  /** Instance id, e.g. `train/fig1-toy/sam-rho0.01-seed0`. */
  readonly id: string;
  /** Cache key of the entry the files come from. */
  readonly key: string;
  /**
   * Directory holding the artifact files (never write into it); for a member of a sweep entry,
   * the sweep's directory (its files are in `pack`). Read through `readArtifact`
   * (pipeline/pack.ts), which handles both.
   */
  readonly dir: string;
  /** The params that instance ran with. */
  readonly params: Readonly<Record<string, unknown>>;
  /** For a member of a sweep entry: the pack file and where each of its group's files lies in it. */
  readonly pack?: {
    readonly path: string;
    readonly files: Readonly<Record<string, { readonly offset: number; readonly bytes: number }>>;
  };
  /**
   * For a member of a sweep entry: its position in its group (the order of `runGroup`'s
   * contexts), which picks its part of the group's files.
   */
  readonly member?: number;
}

/** Everything a stage instance gets to run. */
export interface StageContext {
  /** Instance id, e.g. `train/fig1-toy/sam-rho0.01-seed0`. */
  readonly id: string;
  /** This instance's params (JSON-able). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Role → upstream artifacts, e.g. `{ dataset: [...], train: [...] }`. */
  readonly inputs: Readonly<Record<string, InputArtifact[]>>;
  /**
   * Empty directory to write the artifacts into (`manifest.json` is reserved for the pipeline).
   * Members of a group computed by `runGroup` must write through `write` instead.
   */
  readonly outDir: string;
  /**
   * Writes one artifact (`name` a relative path): into `outDir`, or, for a member of a group, into
   * the group's sweep entry, whose files are the group's (each name once, whichever member's
   * `write` is used).
   */
  write(name: string, data: string | Uint8Array): Promise<void>;
  /** Reports progress; drives the live progress line or the periodic log lines. */
  progress(done: number, total: number, note?: string): void;
  /** Logs one line attributed to this instance. */
  log(message: string): void;
}

/** One kind of stage: how to run it and what its cached output depends on besides params and inputs. */
export interface StageKind {
  /** Kind name, e.g. `dataset`, `train`, `spectral`, `tabulate`. */
  readonly kind: string;
  /** Bump to invalidate every cached output of this kind. */
  readonly version: number;
  /** Repository-relative source files whose content hashes enter the cache key. */
  readonly sources: readonly string[];
  /** Runtime identity the output depends on (backend, tfjs and Deno versions …); enters the key. */
  runtime?(params: Readonly<Record<string, unknown>>): Promise<Record<string, string>>;
  /**
   * The params `runtime` reads (absent: all of them). Instances equal in these share one runtime,
   * resolved once: a sweep's 10⁴ members differ in their seeds, not in their backend.
   */
  readonly runtimeParams?: readonly string[];
  /**
   * Checks an instance's params before anything runs, given the params of its upstream instances
   * by role; throws an Error whose message says what is wrong (the pipeline prefixes the config
   * file, line and key). A user mistake is caught here rather than as a failed stage.
   */
  validate?(
    params: Readonly<Record<string, unknown>>,
    upstream: Readonly<Record<string, readonly Readonly<Record<string, unknown>>[]>>,
  ): Promise<void> | void;
  /**
   * Notes on an instance's params that are not mistakes but that a user should hear before the
   * run (a swept value that cannot change the result, say); printed once per distinct note.
   */
  warnings?(
    params: Readonly<Record<string, unknown>>,
    upstream: Readonly<Record<string, readonly Readonly<Record<string, unknown>>[]>>,
  ): Promise<string[]> | string[];
  /**
   * The artifact file names an instance publishes to the results directory (of those its run
   * writes); absent: every file with a published extension.
   */
  publishes?(params: Readonly<Record<string, unknown>>): readonly string[];
  /** Computes the artifacts of one instance into `ctx.outDir`. */
  run(ctx: StageContext): Promise<void>;
  /**
   * Computes the members of one group (`StageInstance.group`) together and writes the group's
   * files once, through any member's `ctx.write` (they are packed into the group's sweep entry):
   * each file holds every member's part, told apart by the member's position in `ctxs`, which
   * downstream stages get as `InputArtifact.member`. Absent: members run one by one through `run`,
   * each into an entry of its own.
   */
  runGroup?(ctxs: readonly StageContext[]): Promise<void>;
  /**
   * A rough relative cost of computing an instance (any unit, the same for every kind; absent: 0).
   * When more instances are ready than slots, the costliest start first, so a long stage does not
   * start last and leave the other workers idle.
   */
  cost?(params: Readonly<Record<string, unknown>>): number;
}

/**
 * What decides an instance's runtime: its kind and the params `runtimeParams` names (all params
 * when it names none), as one string; equal strings, equal runtimes.
 */
export function runtimeMemoKey(
  kindName: string,
  kind: Pick<StageKind, "runtimeParams">,
  params: Readonly<Record<string, Json>>,
): string {
  if (kind.runtimeParams === undefined) return `${kindName}\n${canonicalJsonOnce(params)}`;
  // An absent param and a null one are told apart: `runtime` may default the first.
  const values = kind.runtimeParams.map((k) => k in params ? canonicalJsonOnce(params[k]) : "-");
  return `${kindName}\n${values.join("\n")}`;
}

/** Stage kinds by name, as exported by `stages/registry.ts`. */
export type StageRegistry = Readonly<Record<string, StageKind>>;
