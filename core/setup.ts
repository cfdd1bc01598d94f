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
  const backend = await selectBackend(request, { closedForm: true });
  if (backend === "f64") {
    const objective = createF64Problem(dataset);
    return {
      backend,
      runtime: f64Runtime(),
      ops: f64Engine.ops(objective.dim) as VecOps<unknown, unknown>,
      objective: objective as Objective<unknown, unknown>,
      dispose() {},
    };
  }
  const engine = await createTfEngine(backend);
  const objective = createTfProblem(dataset);
  const ops = engine.ops(objective.dim);
  return {
    backend,
    runtime: engine.runtime,
    ops: ops as unknown as VecOps<unknown, unknown>,
    objective: objective as unknown as Objective<unknown, unknown>,
    dispose: () => objective.dispose?.(),
  };
}

/**
 * The objective of `dataset` on the runs axis of the engine `request` resolves to: `runs` runs'
 * vectors in one handle (float64: each run's arithmetic exactly as alone; tfjs: one tensor
 * computation for all runs).
 */
export async function openRunsObjective(
  dataset: Dataset,
  request: BackendRequest,
  runs: number,
): Promise<Session<unknown>> {
  const backend = await selectBackend(request, { closedForm: true });
  if (backend === "f64") {
    const objective = createF64Problem(dataset);
    return {
      backend,
      runtime: f64Runtime(),
      ops: new F64RunsOps(objective.dim, runs) as VecOps<unknown, unknown, unknown>,
      objective: loopedF64Objective(objective, runs) as Objective<unknown, unknown, unknown>,
      dispose() {},
    };
  }
  const engine = await createTfEngine(backend);
  const objective = createTfRunsProblem(dataset, runs);
  const ops = new TfRunsOps(objective.dim, runs);
  return {
    backend,
    runtime: engine.runtime,
    ops: ops as unknown as VecOps<unknown, unknown, unknown>,
    objective: objective as unknown as Objective<unknown, unknown, unknown>,
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
