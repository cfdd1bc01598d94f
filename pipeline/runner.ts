/**
 * Runs a plan of stage instances against the cache: topological order, independent instances
 * concurrently (up to `jobs`), each instance reused when its key has a verified entry and computed
 * otherwise; plus the status of every instance (up to date / changed / missing / incomplete) and
 * the reason an instance would run.
 * @module
 */
import {
  Cache,
  cacheKey,
  type EntryRead,
  type InputRef,
  type KeyComponents,
  type Manifest,
  PipelineError,
} from "./cache.ts";
import { canonicalJson, hashFile, sha256Hex } from "./hash.ts";
import type { StageInstance } from "./plan.ts";
import type { InputArtifact, StageRegistry } from "./stage.ts";
import { type Executor, inProcessExecutor } from "./executor.ts";
import { type Reporter, shortKey } from "./progress.ts";
import type { Json } from "./config.ts";

/** Status words of an instance. */
export type State = "up to date" | "changed" | "missing" | "incomplete" | "running";

/** What changed since an instance's last run: `params`, `code`, `runtime` or `input`. */
export type ChangeKind = "params" | "code" | "runtime" | "input";

/** The status of one instance. */
export interface InstanceStatus {
  /** Instance id. */
  readonly id: string;
  /** Status word. */
  readonly state: State;
  /** For `changed`: what changed. */
  readonly changes: readonly ChangeKind[];
  /** Human detail (which params, files or upstream instances changed; why an entry is incomplete). */
  readonly detail: string;
  /** Current key, or null when an upstream instance must run first (then it cannot be known). */
  readonly key: string | null;
}

/** A finished instance: its verified manifest and where its files are. */
export interface Outcome {
  /** The entry's manifest. */
  readonly manifest: Manifest;
  /** The entry's directory. */
  readonly dir: string;
  /** Whether this invocation computed it (false: reused from the cache). */
  readonly ran: boolean;
}

/** What a run did. */
export interface RunSummary {
  /** Ids computed by this run. */
  readonly ran: string[];
  /** Ids reused from the cache. */
  readonly reused: string[];
  /** Ids whose stage threw, with the error. */
  readonly failed: { id: string; error: Error }[];
  /** Ids not run because an upstream instance failed. */
  readonly skipped: string[];
  /** Finished instances by id. */
  readonly outcomes: Map<string, Outcome>;
  /** Wall-clock seconds of the whole run. */
  readonly seconds: number;
}

/** Options for {@linkcode Runner}. */
export interface RunnerOptions {
  /** Stage kinds by name. */
  readonly registry: StageRegistry;
  /** The cache. */
  readonly cache: Cache;
  /** Directory that stage `sources` paths are relative to. Default `.`. */
  readonly root?: string;
  /** Receives run events (default: none). */
  readonly reporter?: Reporter;
}

/** Options for {@linkcode Runner.run}. */
export interface RunOptions {
  /** Ids to recompute even when cached. */
  readonly force?: ReadonlySet<string>;
  /** Ids the user asked for; the others in the plan are run only as their upstream (and said so). */
  readonly selected?: ReadonlySet<string>;
  /** Maximum stages computing at once. Default 1. */
  readonly jobs?: number;
  /** Runs the stage code; default: in this thread with the registry. */
  readonly executor?: Executor;
  /**
   * Ids that must come from the cache: when one has no usable entry it fails (naming itself) instead
   * of being computed, and its downstream is skipped. A single-stage job on a shared cache never
   * recomputes its upstream.
   */
  readonly mustReuse?: ReadonlySet<string>;
}

/** A stage whose upstream will run cannot have a known key yet. */
const PENDING = null;

/** An instance that must be computed, with what its run needs. */
interface Pending {
  readonly inst: StageInstance;
  readonly key: string;
  readonly c: KeyComponents;
  readonly forced: boolean;
  readonly reason: string;
  readonly upstream: ReadonlyMap<string, Manifest>;
}

/** A group member waiting for the group's job. */
interface Joined {
  readonly resolve: (outcome: Outcome | null) => void;
}

/** Plans, inspects and runs stage instances against one cache. */
export class Runner {
  private readonly registry: StageRegistry;
  private readonly cache: Cache;
  private readonly root: string;
  private readonly reporter: Reporter;
  private readonly sourceMemo = new Map<string, Promise<Record<string, string>>>();
  private readonly runtimeMemo = new Map<string, Promise<Record<string, string>>>();

  /** @param opts registry, cache, source root and reporter */
  constructor(opts: RunnerOptions) {
    this.registry = opts.registry;
    this.cache = opts.cache;
    this.root = opts.root ?? ".";
    this.reporter = opts.reporter ?? { event() {}, tick() {}, close() {} };
  }

  private kindOf(inst: StageInstance) {
    const kind = this.registry[inst.kind];
    if (!kind) {
      throw new Error(
        `${inst.id}: no stage kind ${JSON.stringify(inst.kind)} is registered (registered: ${
          Object.keys(this.registry).join(", ") || "none"
        })`,
      );
    }
    return kind;
  }

  /** Source file → SHA-256 for a kind, hashed once per runner. */
  private sources(kindName: string): Promise<Record<string, string>> {
    let p = this.sourceMemo.get(kindName);
    if (!p) {
      const kind = this.registry[kindName];
      p = (async () => {
        const out: Record<string, string> = {};
        for (const src of [...kind.sources].sort()) {
          try {
            out[src] = await hashFile(`${this.root}/${src}`);
          } catch (e) {
            throw new Error(
              `stage kind ${kindName} lists source ${src}, which cannot be read (${
                (e as Error).message
              })`,
            );
          }
        }
        return out;
      })();
      this.sourceMemo.set(kindName, p);
    }
    return p;
  }

  private runtime(inst: StageInstance): Promise<Record<string, string>> {
    const memoKey = `${inst.kind}\n${canonicalJson(inst.params)}`;
    let p = this.runtimeMemo.get(memoKey);
    if (!p) {
      const kind = this.kindOf(inst);
      p = kind.runtime ? kind.runtime(inst.params) : Promise.resolve({});
      this.runtimeMemo.set(memoKey, p);
    }
    return p;
  }

  private async components(
    inst: StageInstance,
    upstream: ReadonlyMap<string, Manifest>,
  ): Promise<KeyComponents> {
    const kind = this.kindOf(inst);
    const inputs: Record<string, InputRef[]> = {};
    for (const [role, ids] of Object.entries(inst.inputs)) {
      inputs[role] = ids.map((id) => {
        const m = upstream.get(id)!;
        return { id, key: m.key, hash: m.contentHash, params: m.params };
      });
    }
    return {
      id: inst.id,
      kind: inst.kind,
      version: kind.version,
      params: inst.params,
      inputs,
      sources: await this.sources(inst.kind),
      runtime: await this.runtime(inst),
    };
  }

  /**
   * Why an instance whose key is `key` has no usable entry, compared with its last run recorded in
   * the index: state, what changed and a readable detail.
   */
  private async diagnose(
    c: KeyComponents,
    key: string | typeof PENDING,
    pendingInputs: readonly string[],
    known?: EntryRead,
  ): Promise<Omit<InstanceStatus, "id" | "key">> {
    if (key !== PENDING) {
      const read = known ?? await this.cache.read(key);
      if (read.ok) return { state: "up to date", changes: [], detail: "" };
      const left = await this.cache.leftover(key);
      if (left === "running") {
        return { state: "running", changes: [], detail: "another process is computing it" };
      }
      if (read.state === "corrupt") {
        return { state: "incomplete", changes: [], detail: `corrupt entry: ${read.reason}` };
      }
      if (left === "incomplete") {
        return {
          state: "incomplete",
          changes: [],
          detail: "an interrupted run left it unfinished",
        };
      }
    }
    const last = await this.cache.readIndex(c.id);
    if (!last || (key !== PENDING && last.key === key)) {
      return { state: "missing", changes: [], detail: "" };
    }
    const changes: ChangeKind[] = [];
    const details: string[] = [];
    const paramDiff = diffRecords(last.params, c.params);
    if (paramDiff.length > 0) {
      changes.push("params");
      details.push(paramDiff.join(", "));
    }
    const files = diffKeys(last.sources ?? {}, c.sources);
    if (last.version !== c.version || files.length > 0) {
      changes.push("code");
      details.push(
        [
          ...(last.version !== c.version ? [`version ${last.version} → ${c.version}`] : []),
          ...files,
        ]
          .join(", "),
      );
    }
    const rt = diffRecords(last.runtime ?? {}, c.runtime);
    if (rt.length > 0) {
      changes.push("runtime");
      details.push(rt.join(", "));
    }
    const inputs = pendingInputs.length > 0
      ? [`upstream must run first: ${abbreviate(pendingInputs)}`]
      : [abbreviate(changedInputs(last.inputs ?? {}, c.inputs))].filter((s) => s !== "");
    if (inputs.length > 0) {
      changes.push("input");
      details.push(inputs.join(", "));
    }
    if (changes.length === 0) return { state: "missing", changes: [], detail: "entry was removed" };
    return { state: "changed", changes, detail: details.join("; ") };
  }

  /**
   * Status of every instance of a (topologically ordered) plan, without running anything.
   * Instances in `force` are reported as they are, but everything downstream of them counts as
   * pending (their keys are unknown until they rerun).
   */
  async status(
    plan: readonly StageInstance[],
    opts: { force?: ReadonlySet<string> } = {},
  ): Promise<InstanceStatus[]> {
    const known = new Map<string, Manifest>();
    const out: InstanceStatus[] = [];
    for (const inst of plan) {
      const upIds = Object.values(inst.inputs).flat();
      const pending = upIds.filter((id) => !known.has(id));
      const c = await this.components(inst, pending.length === 0 ? known : stubs(upIds, known));
      const key = pending.length === 0 ? await cacheKey(c) : PENDING;
      const s = await this.diagnose(c, key, pending);
      if (s.state === "up to date" && !opts.force?.has(inst.id)) {
        known.set(inst.id, (await this.cache.read(key!) as { manifest: Manifest }).manifest);
      }
      out.push({ id: inst.id, key, ...s });
    }
    return out;
  }

  /**
   * A key per instance known before anything runs: SHA-256 over what its cache key covers except
   * upstream content, with the upstream instances' recipes in its place. Equal recipes mean equal
   * cache keys as long as stages are deterministic; exported workflows name their marker files by it.
   */
  async recipes(plan: readonly StageInstance[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const inst of plan) {
      const inputs: Record<string, string[]> = {};
      for (const [role, ids] of Object.entries(inst.inputs)) {
        inputs[role] = ids.map((id) => out.get(id)!);
      }
      out.set(
        inst.id,
        await sha256Hex(canonicalJson({
          id: inst.id,
          kind: inst.kind,
          version: this.kindOf(inst).version,
          params: inst.params,
          inputs,
          sources: await this.sources(inst.kind),
          runtime: await this.runtime(inst),
        })),
      );
    }
    return out;
  }

  /** Runs a (topologically ordered) plan; a failing stage skips its downstream, not the rest. */
  async run(plan: readonly StageInstance[], opts: RunOptions = {}): Promise<RunSummary> {
    const t0 = performance.now();
    plan.forEach((inst) => this.kindOf(inst));
    const executor = opts.executor ?? inProcessExecutor(this.registry);
    const slots = new Semaphore(Math.max(1, opts.jobs ?? 1));
    const byId = new Map(plan.map((s) => [s.id, s]));
    const summary: RunSummary = {
      ran: [],
      reused: [],
      failed: [],
      skipped: [],
      outcomes: new Map(),
      seconds: 0,
    };
    this.reporter.event({ type: "plan", total: plan.length });
    const promises = new Map<string, Promise<Outcome | null>>();
    const neededBy = new Map<string, string>();
    for (const inst of plan) {
      for (const id of Object.values(inst.inputs).flat()) {
        if (!neededBy.has(id)) neededBy.set(id, inst.id);
      }
    }

    const process = async (inst: StageInstance): Promise<Outcome | null> => {
      try {
        return await prepare(inst);
      } finally {
        settle(inst);
      }
    };

    /** Reuses, fails or hands an instance to `compute` (a group's members once all have arrived). */
    const prepare = async (inst: StageInstance): Promise<Outcome | null> => {
      const upIds = Object.values(inst.inputs).flat();
      for (const id of upIds) {
        if (!byId.has(id)) throw new Error(`${inst.id}: input ${id} is not in the plan`);
      }
      const ups = await Promise.all(upIds.map((id) => promises.get(id)!));
      if (ups.some((u) => u === null)) {
        summary.skipped.push(inst.id);
        this.reporter.event({ type: "skip", id: inst.id, reason: "an upstream stage failed" });
        return null;
      }
      const upstream = new Map(upIds.map((id, i) => [id, ups[i]!.manifest]));
      const c = await this.components(inst, upstream);
      const key = await cacheKey(c);
      const forced = opts.force?.has(inst.id) ?? false;
      const upstreamOnly = opts.selected !== undefined && !opts.selected.has(inst.id);
      let read: EntryRead | undefined;
      if (!forced) {
        read = await this.cache.read(key);
        if (read.ok) return await this.reused(summary, inst, key, c, read.manifest);
        if (opts.mustReuse?.has(inst.id)) {
          const error = new PipelineError(
            `${inst.id} is not in the cache ${this.cache.dir} (${read.reason}); compute it first ` +
              `(deno task stage ${inst.id}, or deno task reproduce --only ${inst.id})`,
          );
          summary.failed.push({ id: inst.id, error });
          this.reporter.event({ type: "fail", id: inst.id, error: error.message });
          return null;
        }
      }
      const why = forced
        ? { state: "forced", changes: [], detail: "" }
        : await this.diagnose(c, key, [], read);
      if (why.state === "incomplete" && why.detail.startsWith("corrupt")) {
        this.reporter.event({
          type: "warn",
          message: `cache entry ${shortKey(key)} of ${inst.id} is unusable (${
            why.detail.slice(15)
          }); recomputing`,
        });
      }
      let reason = describe(why);
      if (upstreamOnly) reason += `; needed by ${neededBy.get(inst.id) ?? "the selection"}`;
      const job: Pending = { inst, key, c, forced, reason, upstream };
      const group = inst.group === undefined ? undefined : groups.get(inst.group);
      if (group === undefined) return (await compute([job]))[0];
      return await new Promise<Outcome | null>((resolve) => {
        group.joined.push({ ...job, resolve });
        settle(inst);
      });
    };

    /**
     * Computes instances in one job (a group's members together, by their kind's runGroup): one
     * slot, each member under its own lock and in its own cache entry. Resolves to each member's
     * outcome, null where it failed.
     */
    const compute = async (jobs: readonly Pending[]): Promise<(Outcome | null)[]> => {
      const out: (Outcome | null)[] = jobs.map(() => null);
      const fail = (i: number, e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        summary.failed.push({ id: jobs[i].inst.id, error });
        this.reporter.event({ type: "fail", id: jobs[i].inst.id, error: error.message });
      };
      await slots.acquire();
      const locks: { release(): void }[] = [];
      try {
        const todo: { i: number; tmp: string }[] = [];
        // Locks in key order, so two processes computing overlapping groups cannot deadlock.
        const order = [...jobs.keys()].sort((a, b) => jobs[a].key < jobs[b].key ? -1 : 1);
        for (const i of order) {
          const j = jobs[i];
          locks.push(
            await this.cache.lock(
              j.key,
              () => this.reporter.event({ type: "wait", id: j.inst.id }),
            ),
          );
          if (!j.forced) {
            // Another process may have finished it while we waited for the lock.
            const again = await this.cache.read(j.key);
            if (again.ok) {
              out[i] = await this.reused(
                summary,
                j.inst,
                j.key,
                j.c,
                again.manifest,
                "computed by another process",
              );
              continue;
            }
          }
          todo.push({ i, tmp: await this.cache.begin(j.key) });
        }
        if (todo.length === 0) return out;
        for (const { i } of todo) {
          const j = jobs[i];
          this.reporter.event({ type: "start", id: j.inst.id, key: j.key, reason: j.reason });
        }
        const started = new Date();
        const t = performance.now();
        const part = ({ i, tmp }: { i: number; tmp: string }) => ({
          id: jobs[i].inst.id,
          params: jobs[i].inst.params,
          inputs: inputArtifacts(jobs[i].inst, jobs[i].upstream, this.cache),
          outDir: tmp,
        });
        const ids = todo.map(({ i }) => jobs[i].inst.id);
        try {
          await executor.run({
            kind: jobs[todo[0].i].inst.kind,
            ...part(todo[0]),
            ...(jobs[0].inst.group === undefined ? {} : { with: todo.slice(1).map(part) }),
          }, {
            progress: (done, total, note) => {
              for (const id of ids) {
                this.reporter.event({ type: "progress", id, done, total, note });
              }
            },
            log: (message) => this.reporter.event({ type: "log", id: ids[0], message }),
          });
        } catch (e) {
          for (const { i, tmp } of todo) {
            await this.cache.abort(tmp);
            fail(i, e);
          }
          return out;
        }
        const seconds = (performance.now() - t) / 1000;
        for (const { i, tmp } of todo) {
          const j = jobs[i];
          try {
            const manifest = await this.cache.commit(j.key, tmp, {
              ...j.c,
              timings: {
                started: started.toISOString(),
                finished: new Date().toISOString(),
                seconds,
              },
            });
            this.reporter.event({ type: "finish", id: j.inst.id, key: j.key, seconds });
            await this.cache.writeIndex(j.key, j.c);
            summary.ran.push(j.inst.id);
            out[i] = { manifest, dir: this.cache.entryDir(j.key), ran: true };
            summary.outcomes.set(j.inst.id, out[i]!);
          } catch (e) {
            fail(i, e);
          }
        }
        return out;
      } catch (e) {
        jobs.forEach((_, i) => out[i] === null && fail(i, e));
        return out;
      } finally {
        for (const l of locks) l.release();
        slots.release();
      }
    };

    // Groups whose kind computes them together: the members still to arrive, and those waiting.
    const groups = new Map<string, { waiting: Set<string>; joined: (Pending & Joined)[] }>();
    for (const inst of plan) {
      if (inst.group === undefined || !this.registry[inst.kind].runGroup) continue;
      const g = groups.get(inst.group) ?? { waiting: new Set<string>(), joined: [] };
      g.waiting.add(inst.id);
      groups.set(inst.group, g);
    }
    /** Marks a member as arrived (joined, reused, failed or skipped); the last one starts the job. */
    const settle = (inst: StageInstance) => {
      const g = inst.group === undefined ? undefined : groups.get(inst.group);
      if (!g || !g.waiting.delete(inst.id) || g.waiting.size > 0 || g.joined.length === 0) return;
      const joined = g.joined.splice(0);
      compute(joined).then((outs) => joined.forEach((j, i) => j.resolve(outs[i])));
    };

    try {
      for (const inst of plan) promises.set(inst.id, process(inst));
      await Promise.all(promises.values());
    } finally {
      if (!opts.executor) executor.close();
    }
    return { ...summary, seconds: (performance.now() - t0) / 1000 };
  }

  private async reused(
    summary: RunSummary,
    inst: StageInstance,
    key: string,
    c: KeyComponents,
    manifest: Manifest,
    note?: string,
  ): Promise<Outcome> {
    const untidy = await this.cache.tidy(key);
    if (untidy) this.reporter.event({ type: "warn", message: untidy });
    await this.cache.writeIndex(key, c);
    summary.reused.push(inst.id);
    this.reporter.event({ type: "reuse", id: inst.id, key, note });
    const outcome = { manifest, dir: this.cache.entryDir(key), ran: false };
    summary.outcomes.set(inst.id, outcome);
    return outcome;
  }
}

/** One-line reason an instance runs, e.g. `changed params: rho 0.01 → 0.02`. */
export function describe(s: { state: string; changes: readonly string[]; detail: string }): string {
  if (s.state === "changed") return `changed ${s.changes.join(", ")}: ${s.detail}`;
  return s.detail ? `${s.state}: ${s.detail}` : s.state;
}

function inputArtifacts(
  inst: StageInstance,
  upstream: ReadonlyMap<string, Manifest>,
  cache: Cache,
): Record<string, InputArtifact[]> {
  const out: Record<string, InputArtifact[]> = {};
  for (const [role, ids] of Object.entries(inst.inputs)) {
    out[role] = ids.map((id) => {
      const m = upstream.get(id)!;
      return { id, key: m.key, dir: cache.entryDir(m.key), params: m.params };
    });
  }
  return out;
}

/** Placeholder manifests for upstream instances that must run first (only their ids matter). */
function stubs(
  ids: readonly string[],
  known: ReadonlyMap<string, Manifest>,
): Map<string, Manifest> {
  const out = new Map(known);
  for (const id of ids) {
    if (!out.has(id)) out.set(id, { key: "", contentHash: "", params: {} } as unknown as Manifest);
  }
  return out;
}

/** `a, b and 3 more` (long lists of upstream ids would drown the status line). */
function abbreviate(ids: readonly string[]): string {
  return ids.length <= 3
    ? ids.join(", ")
    : `${ids.slice(0, 2).join(", ")} and ${ids.length - 2} more`;
}

/** A value for a one-line reason: JSON, elided past 60 characters (a list of claims can be huge). */
function show(v: Json | undefined): string {
  if (v === undefined) return "(unset)";
  const text = JSON.stringify(v);
  return text.length <= 60 ? text : `${text.slice(0, 57)}…`;
}

/** `k old → new` for every top-level key whose value differs. */
function diffRecords(
  a: Readonly<Record<string, Json>>,
  b: Readonly<Record<string, Json>>,
): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) =>
    canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null) || (k in a) !== (k in b)
  )
    .map((k) => `${k} ${show(a[k])} → ${show(b[k])}`);
}

function diffKeys(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().filter((k) => a[k] !== b[k]);
}

function changedInputs(
  a: Readonly<Record<string, readonly InputRef[]>>,
  b: Readonly<Record<string, readonly InputRef[]>>,
): string[] {
  const flat = (x: Readonly<Record<string, readonly InputRef[]>>) =>
    new Map(
      Object.entries(x).flatMap(([role, refs]) => refs.map((r) => [`${role}:${r.id}`, r] as const)),
    );
  const fa = flat(a), fb = flat(b);
  const out: string[] = [];
  for (const [k, r] of fb) {
    const old = fa.get(k);
    if (!old || old.hash !== r.hash || canonicalJson(old.params) !== canonicalJson(r.params)) {
      out.push(r.id);
    }
  }
  for (const [k, r] of fa) if (!fb.has(k)) out.push(`${r.id} (removed)`);
  return out;
}

/** Counting semaphore with FIFO wake-up. */
class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
