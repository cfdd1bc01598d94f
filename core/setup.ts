/**
 * Binds a data set to an engine: resolves the backend request and builds the matching objective.
 * The train and spectral stages call this; nothing else chooses engines.
 * @module
 */
import { tfRuntimeIdentity } from "./engine/backend.ts";
import { f64Engine } from "./engine/f64.ts";
import { selectBackend } from "./engine/select.ts";
import { createTfEngine } from "./engine/tfjs.ts";
import { F64RunsOps, loopedF64Objective } from "./engine/f64_runs.ts";
import { TfRunsOps } from "./engine/tfjs_runs.ts";
import { createTfRunsProblem } from "./problems/tf_runs_registry.ts";
import type { BackendName, BackendRequest, Objective, VecOps } from "./engine/types.ts";
import { createF64Problem } from "./problems/registry.ts";
import { createTfProblem } from "./problems/tf_registry.ts";
import type { Dataset } from "./problems/types.ts";

/** A data set's objective on one engine, with the operations of its dimension. */
export interface Session<C = number> {
  /** The backend in use. */
  readonly backend: BackendName;
  /** Versions identifying the numbers (recorded with every result). */
  readonly runtime: Readonly<Record<string, string>>;
  /** Vector operations of the objective's dimension (and runs). */
  readonly ops: VecOps<unknown, unknown, C>;
  /** The objective on that engine. */
  readonly objective: Objective<unknown, unknown, C>;
  /** Frees engine resources. */
  dispose(): void;
}

/**
 * The backend a request resolves to and the identity of the numbers it produces (for cache keys),
 * without initializing anything.
 */
export async function resolveBackend(
  request: BackendRequest,
  opts: { preferF64?: boolean } = {},
): Promise<{ backend: BackendName; runtime: Record<string, string> }> {
  const backend = await selectBackend(request, { closedForm: true, preferF64: opts.preferF64 });
  if (backend === "f64") return { backend, runtime: f64Runtime() };
  return { backend, runtime: await tfRuntimeIdentity(backend) };
}

/** Builds the objective of `dataset` on the engine `request` resolves to. */
export async function openObjective(dataset: Dataset, request: BackendRequest): Promise<Session> {
  return await open(dataset, request) as Session;
}

/**
 * The objective of `dataset` on the runs axis of the engine `request` resolves to: `runs` runs'
 * vectors in one handle (float64: each run's arithmetic exactly as alone; tfjs: one tensor
 * computation for all runs).
 */
export function openRunsObjective(
  dataset: Dataset,
  request: BackendRequest,
  runs: number,
): Promise<Session<unknown>> {
  return open(dataset, request, runs);
}

/** One run's objective and operations (`runs` undefined), or R runs' on the axis. */
async function open(
  dataset: Dataset,
  request: BackendRequest,
  runs?: number,
): Promise<Session<unknown>> {
  type Pair = [VecOps<unknown, unknown, unknown>, Objective<unknown, unknown, unknown>];
  const backend = await selectBackend(request, { closedForm: true });
  if (backend === "f64") {
    const problem = createF64Problem(dataset);
    const [ops, objective] = (runs === undefined
      ? [f64Engine.ops(problem.dim), problem]
      : [new F64RunsOps(problem.dim, runs), loopedF64Objective(problem, runs)]) as Pair;
    return { backend, runtime: f64Runtime(), ops, objective, dispose() {} };
  }
  const engine = await createTfEngine(backend);
  if (runs === undefined) {
    const objective = createTfProblem(dataset);
    const [ops, obj] = [engine.ops(objective.dim), objective] as unknown as Pair;
    return {
      backend,
      runtime: engine.runtime,
      ops,
      objective: obj,
      dispose: () => objective.dispose?.(),
    };
  }
  const objective = createTfRunsProblem(dataset, runs);
  const ops = new TfRunsOps(objective.dim, runs);
  const [o, obj] = [ops, objective] as unknown as Pair;
  return {
    backend,
    runtime: engine.runtime,
    ops: o,
    objective: obj,
    dispose: () => {
      objective.dispose?.();
      ops.close();
    },
  };
}

/** The f64 engine's identity: its Math functions are V8's, so the Deno version is part of it. */
function f64Runtime(): Record<string, string> {
  return {
    ...f64Engine.runtime,
    deno: navigator.userAgent.match(/Deno\/(\S+)/)?.[1] ?? navigator.userAgent,
  };
}
