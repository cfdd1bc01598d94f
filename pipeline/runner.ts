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
  componentsHash,
  type EntryRead,
  type InputRef,
  type KeyComponents,
  type Leftover,
  type Manifest,
  PipelineError,
  sweepHashes,
  sweepKeys,
  type SweepRead,
} from "./cache.ts";
import { canonicalJson, deepFreeze, hashFile } from "./hash.ts";
import type { StageInstance } from "./plan.ts";
import { type InputArtifact, runtimeMemoKey, type StageRegistry } from "./stage.ts";
import type { PackIndex } from "./pack.ts";
import { type Executor, inProcessExecutor } from "./executor.ts";
import { groupLabel, type Reporter, shortKey } from "./progress.ts";
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
  /**
   * Key of the cache entry that holds it: `key`, or the sweep entry of its group; null when
   * `key` is.
   */
  readonly entry: string | null;
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
  /**
   * Ids whose stage threw, with the error; the members of a group that failed together share one
   * error and carry the group's label (see progress.ts `groupLabel`).
   */
  readonly failed: { id: string; error: Error; group?: string }[];
  /** Ids not run because an upstream instance failed. */
  readonly skipped: string[];
  /** Finished instances by id. */
  readonly outcomes: Map<string, Outcome>;
  /** Wall-clock seconds of the whole run. */
  readonly seconds: number;
}

const SKIP_REASON = "an upstream stage failed";

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

/** Where the instances a kind computes together are: group id → members, in plan order. */
function sweepGroups(
  plan: readonly StageInstance[],
  registry: StageRegistry,
): Map<string, StageInstance[]> {
  const out = new Map<string, StageInstance[]>();
  for (const inst of plan) {
    if (inst.group === undefined || !registry[inst.kind]?.runGroup) continue;
    const g = out.get(inst.group) ?? [];
    g.push(inst);
    out.set(inst.group, g);
  }
  return out;
}

/** What a status knows of a group's sweep entry (null key, read and left: its upstream is pending). */
interface SweepState {
  readonly key: string | null;
  /** Each member's key components, pending upstream and key, by id. */
  readonly members: Map<string, { c: KeyComponents; pending: string[]; key: string | null }>;
  readonly read: SweepRead | null;
  readonly left: Leftover;
  readonly last: Map<string, KeyComponents & { key: string }>;
}

/** A member's read of its sweep entry, as an entry read. */
function memberRead(read: SweepRead, key: string): EntryRead {
  if (!read.ok) return read;
  const manifest = read.members.get(key);
  return manifest
    ? { ok: true, manifest }
    : { ok: false, state: "missing", reason: "not in its sweep entry" };
}

/** Plans, inspects and runs stage instances against one cache. */
export class Runner {
  private readonly registry: StageRegistry;
  private readonly cache: Cache;
  private readonly root: string;
  private readonly reporter: Reporter;
  private readonly sourceMemo = new Map<string, Promise<Record<string, string>>>();
  private readonly runtimeMemo = new Map<string, Promise<Record<string, string>>>();
  /** Each distinct runtime once, by its canonical JSON. */
  private readonly runtimes = new Map<string, Record<string, string>>();

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
        return deepFreeze(out);
      })();
      this.sourceMemo.set(kindName, p);
    }
    return p;
  }

  private runtime(inst: StageInstance): Promise<Record<string, string>> {
    const kind = this.kindOf(inst);
    const memoKey = runtimeMemoKey(inst.kind, kind, inst.params);
    let p = this.runtimeMemo.get(memoKey);
    if (!p) {
      p = (kind.runtime ? kind.runtime(inst.params) : Promise.resolve({})).then((r) => {
        // Equal runtimes as one object: a sweep's members then share theirs, which its commit
        // compares by identity instead of serializing one per member.
        const text = canonicalJson(r);
        let same = this.runtimes.get(text);
        if (same === undefined) this.runtimes.set(text, same = deepFreeze(r));
        return same;
      });
      this.runtimeMemo.set(memoKey, p);
    }
    return p;
  }

  private async components(
    inst: StageInstance,
    upstream: ReadonlyMap<string, Manifest>,
  ): Promise<KeyComponents> {
    return {
      id: inst.id,
      kind: inst.kind,
      version: this.kindOf(inst).version,
      params: inst.params,
      inputs: inputRefs(inst, upstream),
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
    opts: {
      known?: EntryRead;
      entry?: string;
      left?: Leftover;
      last?: (KeyComponents & { key: string }) | null;
    } = {},
  ): Promise<Omit<InstanceStatus, "id" | "key" | "entry">> {
    if (key !== PENDING) {
      const read = opts.known ?? await this.cache.read(key);
      if (read.ok) return { state: "up to date", changes: [], detail: "" };
      const left = opts.left !== undefined
        ? opts.left
        : await this.cache.leftover(opts.entry ?? key);
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
    const last = opts.last !== undefined ? opts.last : await this.cache.readIndex(c.id);
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
    const groups = sweepGroups(plan, this.registry);
    // Per group: the sweep key and its read, found when its first member is reached.
    const sweeps = new Map<string, SweepState>();
    const componentsOf = async (inst: StageInstance) => {
      const upIds = Object.values(inst.inputs).flat();
      const pending = upIds.filter((id) => !known.has(id));
      const c = await this.components(inst, pending.length === 0 ? known : stubs(upIds, known));
      return { c, pending };
    };
    /** A group's members keyed together (one sweep key), when its first member is reached. */
    const sweepOf = async (group: string, members: readonly StageInstance[]) => {
      const got: { c: KeyComponents; pending: string[] }[] = [];
      for (const m of members) got.push(await componentsOf(m));
      const pending = got.some((g) => g.pending.length > 0);
      const keys = pending ? null : sweepKeys(group, got.map((g) => g.c));
      const state: SweepState = {
        key: keys?.key ?? null,
        members: new Map(
          members.map((m, i) => [m.id, { ...got[i], key: keys?.members[i] ?? PENDING }]),
        ),
        read: keys ? await this.cache.readSweep(keys.key) : null,
        left: keys ? await this.cache.leftover(keys.key) : null,
        last: this.cache.readGroupIndex(group),
      };
      sweeps.set(group, state);
      return state;
    };
    for (const inst of plan) {
      const members = inst.group === undefined ? undefined : groups.get(inst.group);
      const sweep = members && (sweeps.get(inst.group!) ?? await sweepOf(inst.group!, members));
      const { c, pending, key } = sweep ? sweep.members.get(inst.id)! : await (async () => {
        const got = await componentsOf(inst);
        return { ...got, key: got.pending.length === 0 ? await cacheKey(got.c) : PENDING };
      })();
      const s = await this.diagnose(
        c,
        key,
        pending,
        sweep
          ? {
            ...(sweep.read ? { known: memberRead(sweep.read, key!) } : {}),
            ...(sweep.key ? { entry: sweep.key } : {}),
            left: sweep.left,
            last: sweep.last.get(inst.id) ?? null,
          }
          : {},
      );
      if (s.state === "up to date" && !opts.force?.has(inst.id)) {
        known.set(inst.id, (await this.cache.read(key!) as { manifest: Manifest }).manifest);
      }
      out.push({
        id: inst.id,
        key,
        entry: key === PENDING ? null : sweep?.key ?? key,
        ...s,
      });
    }
    return out;
  }

  /**
   * A key per instance known before anything runs: SHA-256 over what its cache key covers except
   * upstream content, with the upstream instances' recipes in its place. Equal recipes mean equal
   * cache keys as long as stages are deterministic; exported workflows name their marker files by it.
   * The members of a group computed together are hashed as their sweep key is ({@linkcode sweepHashes}):
   * a member's recipe is the SHA-256 of the group's recipe and its id.
   */
  async recipes(plan: readonly StageInstance[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    // Awaited once per kind and per distinct runtime: a sweep's 10⁴ members share both.
    const sources = new Map<string, Record<string, string>>();
    let runtime: [Promise<Record<string, string>>, Record<string, string>] | undefined;
    const groups = sweepGroups(plan, this.registry);
    const components = async (inst: StageInstance) => {
      if (!sources.has(inst.kind)) sources.set(inst.kind, await this.sources(inst.kind));
      const p = this.runtime(inst);
      if (runtime?.[0] !== p) runtime = [p, await p];
      return {
        id: inst.id,
        kind: inst.kind,
        version: this.kindOf(inst).version,
        params: inst.params,
        sources: sources.get(inst.kind)!,
        runtime: runtime[1],
      };
    };
    const inputsOf = (inst: StageInstance) => {
      const inputs: Record<string, string[]> = {};
      for (const [role, ids] of Object.entries(inst.inputs)) {
        inputs[role] = ids.map((id) => out.get(id)!);
      }
      return inputs;
    };
    for (const inst of plan) {
      if (out.has(inst.id)) continue;
      const members = inst.group === undefined ? undefined : groups.get(inst.group);
      if (members !== undefined && members.length > 1) {
        const cs: Awaited<ReturnType<typeof components>>[] = [];
        for (const m of members) cs.push(await components(m));
        // Members reading the same inputs with one runtime (every runs axis group): hashed like
        // their sweep key, one hash over the group and one short one per member.
        if (members.every((m, i) => m.inputs === inst.inputs && cs[i].runtime === cs[0].runtime)) {
          const hashes = sweepHashes(inst.group!, cs, inputsOf(inst), (r) => JSON.stringify(r));
          members.forEach((m, i) => out.set(m.id, hashes.members[i]));
        } else {
          members.forEach((m, i) =>
            out.set(m.id, componentsHash(cs[i], inputsOf(m), (r) => JSON.stringify(r)))
          );
        }
        continue;
      }
      out.set(
        inst.id,
        componentsHash(await components(inst), inputsOf(inst), (r) => JSON.stringify(r)),
      );
    }
    return out;
  }

  /** Runs a (topologically ordered) plan; a failing stage skips its downstream, not the rest. */
  async run(plan: readonly StageInstance[], opts: RunOptions = {}): Promise<RunSummary> {
    const t0 = performance.now();
    plan.forEach((inst) => this.kindOf(inst));
    const executor = opts.executor ?? inProcessExecutor(this.registry);
    // Jobs handed to the executor at once, and jobs being locked, set up or committed around
    // them: twice as many, so that this thread prepares and commits entries while the executor
    // computes (small runs otherwise leave the workers idle about half of the time).
    const handed = Math.max(1, opts.executor?.capacity ?? opts.jobs ?? 1);
    const slots = new Semaphore(handed);
    const staging = new Semaphore(2 * handed);
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
    // Settles when an instance's outcome is in `settled`; a group's members share one promise, so
    // a sweep of 10⁴ runs costs its downstream one wait, not 10⁴.
    const promises = new Map<string, Promise<unknown>>();
    const settled = new Map<string, Outcome | null>();
    /** The outcomes of `ids`, in order (null: failed or skipped), each promise awaited once. */
    const outcomesOf = async (ids: readonly string[]): Promise<(Outcome | null)[]> => {
      await Promise.all(new Set(ids.map((id) => promises.get(id)!)));
      return ids.map((id) => settled.get(id)!);
    };
    // Built on first use: only a run with a selection has members it runs as upstream alone.
    let neededBy: ((inst: StageInstance) => string) | undefined;
    const whyAlso = (inst: StageInstance) => (neededBy ??= unselectedReasons(plan))(inst);

    /** Reuses, fails or hands an instance to `compute` (a group's members join their sweep). */
    const prepare = async (inst: StageInstance): Promise<Outcome | null> => {
      const upIds = Object.values(inst.inputs).flat();
      for (const id of upIds) {
        if (!byId.has(id)) throw new Error(`${inst.id}: input ${id} is not in the plan`);
      }
      const ups = await outcomesOf(upIds);
      if (ups.some((u) => u === null)) {
        summary.skipped.push(inst.id);
        this.reporter.event({ type: "skip", id: inst.id, reason: SKIP_REASON });
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
        if (opts.mustReuse?.has(inst.id)) return mustReuseFailed([inst], read.reason)[0];
      }
      const reason = await why({ inst, c, key, forced, upstreamOnly }, { known: read });
      return (await compute([{ inst, key, c, forced, reason, upstream }]))[0];
    };

    /**
     * A group's members (plan order) keyed in one pass, without a promise or a components lookup
     * per member (a 10⁴-run sweep paid about 20 µs a member for its own), then reused from their
     * sweep entry or computed together into a new one; members whose upstream failed are skipped
     * and reported as one.
     */
    const prepareGroup = async (
      group: string,
      members: readonly StageInstance[],
    ): Promise<(Outcome | null)[]> => {
      // Every instance's promise is set before the first group looks up its upstream.
      await Promise.resolve();
      const upIds = members.map((m) => Object.values(m.inputs).flat());
      const all = [...new Set(upIds.flat())];
      for (const [i, ids] of upIds.entries()) {
        const missing = ids.find((id) => !byId.has(id));
        if (missing !== undefined) {
          throw new Error(`${members[i].id}: input ${missing} is not in the plan`);
        }
      }
      const ups = await outcomesOf(all);
      const done = new Map(all.map((id, i) => [id, ups[i]]));
      const out: (Outcome | null)[] = members.map(() => null);
      const joined: (Pending & { upstreamOnly: boolean; at: number })[] = [];
      const skipped: string[] = [];
      const sources = await this.sources(members[0].kind);
      const version = this.kindOf(members[0]).version;
      // Members reading the same upstream share one upstream map and one list of refs, which the
      // sweep's commit then compares by identity.
      let same:
        | {
          of: StageInstance["inputs"];
          text: string;
          upstream: Map<string, Manifest>;
          inputs: KeyComponents["inputs"];
        }
        | undefined;
      let lastRuntime: [Promise<Record<string, string>>, Record<string, string>] | undefined;
      for (const [at, inst] of members.entries()) {
        if (upIds[at].some((id) => done.get(id) === null)) {
          summary.skipped.push(inst.id);
          skipped.push(inst.id);
          continue;
        }
        const text = inst.inputs === same?.of ? same.text : JSON.stringify(inst.inputs);
        if (same?.text !== text) {
          const upstream = new Map(upIds[at].map((id) => [id, done.get(id)!.manifest]));
          same = { of: inst.inputs, text, upstream, inputs: inputRefs(inst, upstream) };
        }
        const p = this.runtime(inst);
        if (lastRuntime?.[0] !== p) lastRuntime = [p, await p];
        const c: KeyComponents = {
          id: inst.id,
          kind: inst.kind,
          version,
          params: inst.params,
          inputs: same.inputs,
          sources,
          runtime: lastRuntime[1],
        };
        joined.push({
          inst,
          key: "",
          c,
          forced: opts.force?.has(inst.id) ?? false,
          reason: "",
          upstream: same.upstream,
          upstreamOnly: opts.selected !== undefined && !opts.selected.has(inst.id),
          at,
        });
      }
      if (skipped.length > 0) {
        this.reporter.event({
          type: "skip",
          id: groupLabel(skipped),
          reason: SKIP_REASON,
          members: skipped.length > 1 ? skipped.length : undefined,
        });
      }
      if (joined.length === 0) return out;
      const keys = sweepKeys(group, joined.map((j) => j.c));
      joined.forEach((j, i) => (j as { key: string }).key = keys.members[i]);
      const outs = await sweep(group, keys.key, joined);
      joined.forEach((j, i) => out[j.at] = outs[i]);
      return out;
    };

    /** Records instances as failed with one error, reported once (a group's members together). */
    const failTogether = (insts: readonly StageInstance[], error: Error): null[] => {
      if (insts.length === 0) return [];
      const group = insts.length > 1 ? groupLabel(insts.map((i) => i.id)) : undefined;
      for (const inst of insts) summary.failed.push({ id: inst.id, error, group });
      this.reporter.event({
        type: "fail",
        id: group ?? insts[0].id,
        error: error.message,
        members: group ? insts.length : undefined,
      });
      return insts.map(() => null);
    };

    /** Fails instances that had to be reused (`stage`'s upstream) but are not in the cache. */
    const mustReuseFailed = (insts: readonly StageInstance[], cause: string): null[] => {
      const what = insts.length > 1 ? `the group of ${insts.length} runs is` : `${insts[0].id} is`;
      const first = insts[0].id;
      const how = insts.length > 1
        ? `deno task stage ${first} computes its whole group, or deno task reproduce --only ${first}`
        : `deno task stage ${first}, or deno task reproduce --only ${first}`;
      return failTogether(
        insts,
        new PipelineError(
          `${what} not in the cache ${this.cache.dir} (${cause}); compute it first (${how})`,
        ),
      );
    };

    /** The one-line reason an instance runs (and a warning when its entry is corrupt). */
    const why = async (
      j: {
        inst: StageInstance;
        c: KeyComponents;
        key: string;
        forced: boolean;
        upstreamOnly: boolean;
      },
      d: Parameters<Runner["diagnose"]>[3],
    ): Promise<string> => {
      const s = j.forced
        ? { state: "forced", changes: [], detail: "" }
        : await this.diagnose(j.c, j.key, [], d);
      if (s.state === "incomplete" && s.detail.startsWith("corrupt")) {
        this.reporter.event({
          type: "warn",
          message: `cache entry ${shortKey(d?.entry ?? j.key)} of ${j.inst.id} is unusable (${
            s.detail.slice(15)
          }); recomputing`,
        });
      }
      let reason = describe(s);
      if (j.upstreamOnly) reason += `; ${whyAlso(j.inst)}`;
      return reason;
    };

    /**
     * A group's members, all arrived: reused from their sweep entry, or computed together into a
     * new one (every member of the group, even when only some were selected or forced).
     */
    const sweep = async (
      group: string,
      sk: string,
      joined: (Pending & { upstreamOnly: boolean })[],
    ): Promise<(Outcome | null)[]> => {
      const forced = joined.some((j) => j.forced);
      const read = forced ? undefined : await this.cache.readSweep(sk);
      if (read?.ok && joined.every((j) => read.members.has(j.key))) {
        return await this.reusedSweep(summary, { key: sk, group }, joined, read.members);
      }
      if (read && joined.every((j) => opts.mustReuse?.has(j.inst.id))) {
        return mustReuseFailed(
          joined.map((j) => j.inst),
          read.ok ? "not in its sweep" : read.reason,
        );
      }
      const jobs: Pending[] = [];
      const left = forced ? null : await this.cache.leftover(sk);
      const last = forced ? new Map() : this.cache.readGroupIndex(group);
      for (const j of joined) {
        const known = read && memberRead(read, j.key);
        const d = { known, entry: sk, left, last: last.get(j.inst.id) ?? null };
        // A member never run before: what `diagnose` would say, without its awaits (10⁴ of them).
        const fresh = !j.forced && known?.ok === false && known.state === "missing" &&
          left === null && d.last === null;
        const reason = fresh
          ? (j.upstreamOnly ? `missing; ${whyAlso(j.inst)}` : "missing")
          : await why(j, d);
        jobs.push({ ...j, reason });
      }
      return await compute(jobs, { key: sk, group });
    };

    /**
     * Computes instances in one job, under one lock and into one cache entry: a single instance
     * into its own entry, or a group's members (by their kind's runGroup) into their sweep entry.
     * Resolves to each member's outcome, null where it failed.
     */
    const compute = async (
      jobs: readonly Pending[],
      sweep?: { key: string; group: string },
    ): Promise<(Outcome | null)[]> => {
      const out: (Outcome | null)[] = jobs.map(() => null);
      /** Fails the jobs not yet finished, with one report. */
      const fail = (e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        failTogether(jobs.filter((_, i) => out[i] === null).map((j) => j.inst), error);
      };
      const entry = sweep?.key ?? jobs[0].key;
      const kind = this.registry[jobs[0].inst.kind];
      const cost = jobs.reduce((s, j) => s + (kind.cost?.(j.inst.params) ?? 0), 0);
      await staging.acquire(cost);
      let lock: { release(): void } | undefined;
      // A sweep reports once for all its members (a 10 000-run sweep would print 20 000 lines).
      const label = groupLabel(jobs.map((j) => j.inst.id));
      const members = jobs.length > 1 ? jobs.length : undefined;
      try {
        lock = await this.cache.lock(entry, () => {
          this.reporter.event({ type: "wait", id: label });
        });
        if (!jobs.some((j) => j.forced)) {
          // Another process may have finished it while we waited for the lock.
          const again = sweep
            ? await this.cache.readSweep(entry)
            : await this.cache.read(entry).then((r) =>
              r.ok ? { ok: true as const, members: new Map([[entry, r.manifest]]) } : r
            );
          if (again.ok && jobs.every((j) => again.members.has(j.key))) {
            const note = "computed by another process";
            return sweep ? await this.reusedSweep(summary, sweep, jobs, again.members, note) : [
              await this.reused(
                summary,
                jobs[0].inst,
                entry,
                jobs[0].c,
                again.members.get(entry)!,
                { note },
              ),
            ];
          }
        }
        const tmp = await this.cache.begin(entry);
        // The members' reasons, each part once ("missing; computed with its group").
        const reason = [
          ...new Set([...new Set(jobs.map((j) => j.reason))].flatMap((r) => r.split("; "))),
        ]
          .join("; ");
        await slots.acquire(cost);
        let started = new Date();
        let t = performance.now();
        let packed: PackIndex | undefined;
        try {
          packed = await executor.run({
            kind: jobs[0].inst.kind,
            id: jobs[0].inst.id,
            params: jobs[0].inst.params,
            inputs: inputArtifacts(jobs[0].inst, jobs[0].upstream, this.cache),
            outDir: tmp,
            ...(sweep
              ? {
                with: jobs.slice(1).map((j) => ({ id: j.inst.id, params: j.inst.params })),
                pack: `${tmp}/pack`,
              }
              : {}),
          }, {
            start: () => {
              this.reporter.event({ type: "start", id: label, key: entry, reason, members });
              started = new Date();
              t = performance.now();
            },
            progress: (done, total, note) => {
              this.reporter.event({ type: "progress", id: label, done, total, note });
            },
            log: (message) => this.reporter.event({ type: "log", id: label, message }),
          });
        } catch (e) {
          await this.cache.abort(tmp);
          fail(e);
          return out;
        } finally {
          slots.release();
        }
        const seconds = (performance.now() - t) / 1000;
        const timings = {
          started: started.toISOString(),
          finished: new Date().toISOString(),
          seconds,
        };
        const records = jobs.map((j) => ({ ...j.c, key: j.key }));
        const manifests = sweep
          ? await this.cache.commitSweep(entry, tmp, {
            group: sweep.group,
            members: records,
            packed: packed ?? {},
            timings,
          })
          : [await this.cache.commit(entry, tmp, { ...jobs[0].c, timings })];
        if (sweep) this.cache.writeSweepIndex(entry, sweep.group, records);
        else await this.cache.writeIndex(entry, jobs[0].c);
        this.reporter.event({ type: "finish", id: label, key: entry, seconds, members });
        jobs.forEach((j, i) => {
          summary.ran.push(j.inst.id);
          out[i] = { manifest: manifests[i], dir: this.cache.dirOf(manifests[i]), ran: true };
          summary.outcomes.set(j.inst.id, out[i]!);
        });
        return out;
      } catch (e) {
        fail(e);
        return out;
      } finally {
        lock?.release();
        staging.release();
      }
    };

    const groups = sweepGroups(plan, this.registry);
    const groupRuns = new Map<string, Promise<void>>();
    try {
      for (const inst of plan) {
        const members = inst.group === undefined ? undefined : groups.get(inst.group);
        if (members === undefined) {
          promises.set(inst.id, prepare(inst).then((o) => settled.set(inst.id, o)));
          continue;
        }
        let run = groupRuns.get(inst.group!);
        if (run === undefined) {
          run = prepareGroup(inst.group!, members).then((outs) =>
            members.forEach((m, i) => settled.set(m.id, outs[i]))
          );
          groupRuns.set(inst.group!, run);
        }
        promises.set(inst.id, run);
      }
      await Promise.all(new Set(promises.values()));
    } finally {
      if (!opts.executor) executor.close();
    }
    return { ...summary, seconds: (performance.now() - t0) / 1000 };
  }

  /**
   * Records an instance as reused; a sweep's members are tidied, indexed and announced (one line
   * for the group) by `reusedSweep`.
   */
  private async reused(
    summary: RunSummary,
    inst: StageInstance,
    key: string,
    c: KeyComponents,
    manifest: Manifest,
    opts: { note?: string; announce?: boolean } = {},
  ): Promise<Outcome> {
    if (manifest.sweep === undefined) {
      const untidy = await this.cache.tidy(key);
      if (untidy) this.reporter.event({ type: "warn", message: untidy });
      await this.cache.writeIndex(key, c);
    }
    summary.reused.push(inst.id);
    if (opts.announce ?? true) {
      this.reporter.event({ type: "reuse", id: inst.id, key, note: opts.note });
    }
    const outcome = { manifest, dir: this.cache.dirOf(manifest), ran: false };
    summary.outcomes.set(inst.id, outcome);
    return outcome;
  }

  /** Records a group's members as reused from their sweep entry `key` (tidied and indexed once). */
  private async reusedSweep(
    summary: RunSummary,
    sweep: { key: string; group: string },
    jobs: readonly Pending[],
    members: ReadonlyMap<string, Manifest>,
    note?: string,
  ): Promise<Outcome[]> {
    const untidy = await this.cache.tidy(sweep.key);
    if (untidy) this.reporter.event({ type: "warn", message: untidy });
    this.cache.writeSweepIndex(sweep.key, sweep.group, jobs.map((j) => ({ ...j.c, key: j.key })));
    this.reporter.event({
      type: "reuse",
      id: groupLabel(jobs.map((j) => j.inst.id)),
      key: sweep.key,
      note,
      members: jobs.length > 1 ? jobs.length : undefined,
    });
    return await Promise.all(
      jobs.map((j) =>
        this.reused(summary, j.inst, j.key, j.c, members.get(j.key)!, { note, announce: false })
      ),
    );
  }
}

/**
 * Why a plan holds an instance the user did not select: `needed by <first downstream id>`, or, for
 * a member of a group, `computed with its group`.
 */
export function unselectedReasons(
  plan: readonly StageInstance[],
): (inst: StageInstance) => string {
  const neededBy = new Map<string, string>();
  for (const inst of plan) {
    for (const id of Object.values(inst.inputs).flat()) {
      if (!neededBy.has(id)) neededBy.set(id, inst.id);
    }
  }
  return (inst) =>
    neededBy.has(inst.id)
      ? `needed by ${neededBy.get(inst.id)}`
      : inst.group !== undefined
      ? "computed with its group"
      : "needed by the selection";
}

/** One-line reason an instance runs, e.g. `changed params: rho 0.01 → 0.02`. */
export function describe(s: { state: string; changes: readonly string[]; detail: string }): string {
  if (s.state === "changed") return `changed ${s.changes.join(", ")}: ${s.detail}`;
  return s.detail ? `${s.state}: ${s.detail}` : s.state;
}

/** An instance's upstream artifacts as they enter its key, by role. */
function inputRefs(
  inst: StageInstance,
  upstream: ReadonlyMap<string, Manifest>,
): Record<string, InputRef[]> {
  const inputs: Record<string, InputRef[]> = {};
  for (const [role, ids] of Object.entries(inst.inputs)) {
    inputs[role] = ids.map((id) => {
      const m = upstream.get(id)!;
      return { id, key: m.key, hash: m.contentHash, params: m.params };
    });
  }
  return inputs;
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
      const pack = cache.packOf(m);
      return {
        id,
        key: m.key,
        dir: cache.dirOf(m),
        params: m.params,
        ...(pack ? { pack, member: m.member } : {}),
      };
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

/** Counting semaphore waking the highest-priority waiter first (FIFO among equals). */
class Semaphore {
  private waiting: { priority: number; wake: () => void }[] = [];
  constructor(private free: number) {}
  async acquire(priority = 0): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((wake) => {
      // Inserted after every waiter of at least its priority: stable, highest first.
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1].priority < priority) at--;
      this.waiting.splice(at, 0, { priority, wake });
    });
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next.wake();
    else this.free++;
  }
}
