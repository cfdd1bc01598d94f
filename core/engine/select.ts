/**
 * Resolving a backend request (`auto` or an explicit name) to the backend a run will use.
 * @module
 */
import type { BackendName, BackendRequest } from "./types.ts";
import { type GpuLike, navigatorGpu, probeWebGpu } from "./backend.ts";

/** Options of `selectBackend`. */
export interface SelectBackendOptions {
  /** The problem has closed-form derivatives (the f64 engine can run it). */
  readonly closedForm: boolean;
  /**
   * With `closedForm`, `auto` picks f64 before any GPU: tiny closed-form problems are dispatch-bound
   * on tfjs (tens of µs per op) and f64 also gives float64 precision.
   */
  readonly preferF64?: boolean;
  /** The WebGPU entry point to probe (default `navigator.gpu`; null: none; tests inject fakes). */
  readonly gpu?: GpuLike | null;
}

/**
 * The backend for `request`. Explicit names are kept (never a silent fallback); an explicit
 * "webgpu" with no adapter at all rejects with "WebGPU requested but navigator.gpu has no adapter:
 * <cause>", while a fallback (software) adapter is accepted. `auto` picks, in order: f64 when
 * `closedForm && preferF64`; webgpu when the adapter is a real (non-fallback) one; otherwise wasm.
 */
export async function selectBackend(
  request: BackendRequest,
  opts: SelectBackendOptions,
): Promise<BackendName> {
  const gpu = opts.gpu === undefined ? navigatorGpu() : opts.gpu;
  switch (request) {
    case "f64":
    case "cpu":
    case "wasm":
      return request;
    case "webgpu": {
      const probe = await probeWebGpu(gpu);
      if (!probe.available) {
        throw new Error(`WebGPU requested but navigator.gpu has no adapter: ${probe.description}`);
      }
      return "webgpu";
    }
    case "auto": {
      if (opts.closedForm && opts.preferF64) return "f64";
      const probe = await probeWebGpu(gpu);
      return probe.available && !probe.fallback ? "webgpu" : "wasm";
    }
    default:
      throw new RangeError(
        `unknown backend "${request}" (expected auto, f64, cpu, wasm or webgpu)`,
      );
  }
}
