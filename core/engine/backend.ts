/**
 * tfjs backend initialization: cpu, wasm and webgpu, and the WebGPU adapter probe.
 *
 * tfjs has one global backend; `initTfBackend` switches it. Tensors made on an earlier backend are
 * moved by tfjs on first use, so objectives should be built after the switch.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { loadBlas } from "./blas.ts";
import { gemmMadd } from "./gemm_wasm.ts";

/** The tfjs backends this project runs on. */
export type TfBackendName = "cpu" | "wasm" | "webgpu";

/** The part of `navigator.gpu` the probe uses (an injection point for tests). */
export interface GpuLike {
  /** As `GPU.requestAdapter`. */
  requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null>;
}

/** What a WebGPU adapter probe found. */
export interface AdapterProbe {
  /** True when an adapter was returned. */
  readonly available: boolean;
  /** True for software/fallback adapters (e.g. Mesa llvmpipe). */
  readonly fallback: boolean;
  /** Human-readable adapter description (for runtime records), or why there is none. */
  readonly description: string;
}

/** `navigator.gpu`, or null when this runtime has no WebGPU. */
export function navigatorGpu(): GpuLike | null {
  return (navigator as { gpu?: GpuLike }).gpu ?? null;
}

/**
 * Asks `gpu` (default `navigator.gpu`; null means the API is absent) for the adapter
 * tfjs-backend-webgpu would get (high-performance preference). Never throws: a missing API or a
 * rejected request is reported in `description` with `available: false`.
 */
export async function probeWebGpu(gpu: GpuLike | null = navigatorGpu()): Promise<AdapterProbe> {
  if (!gpu) {
    return { available: false, fallback: false, description: "navigator.gpu is undefined" };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (e) {
    return { available: false, fallback: false, description: `requestAdapter() threw: ${e}` };
  }
  if (!adapter) {
    return { available: false, fallback: false, description: "requestAdapter() returned null" };
  }
  // The flag moved from the adapter to its info in the spec; runtimes differ in which they expose.
  const info = (adapter as { info?: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } })
    .info;
  const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    info?.isFallbackAdapter === true;
  const parts = [info?.description, info?.vendor && `vendor ${info.vendor}`, info?.architecture]
    .filter((p) => p);
  const description = `${parts.join(", ") || "unknown adapter"}${fallback ? " [fallback]" : ""}`;
  return { available: true, fallback, description };
}

/**
 * The file URL of tfjs-backend-wasm's `dist/` folder (where its .wasm binaries live), found by
 * resolving the package's entry module, so it works wherever node_modules is. `SAM_WASM_DIST`
 * (a folder holding those .wasm files) overrides it, for a bundled script run without node_modules.
 */
export function wasmDistUrl(): string {
  let dir: string | undefined;
  try {
    dir = Deno.env.get("SAM_WASM_DIST") || undefined;
  } catch {
    // No --allow-env: the package's own folder.
  }
  if (dir) {
    const abs = dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
    return new URL(abs.endsWith("/") ? abs : `${abs}/`, "file:///").href;
  }
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  const marker = "/tfjs-backend-wasm/";
  const at = entry.lastIndexOf(marker);
  if (!entry.startsWith("file:") || at < 0) {
    throw new Error(
      `cannot locate tfjs-backend-wasm's dist/ folder: the package resolved to ${entry} ` +
        `(a file: URL inside node_modules is needed; keep "nodeModulesDir": "auto" in deno.json)`,
    );
  }
  return `${entry.slice(0, at + marker.length)}dist/`;
}

let wasmPathsSet = false;
/** Backend switches are global to tfjs: concurrent callers are served one after another. */
let switching: Promise<unknown> = Promise.resolve();

/**
 * The identity of the numbers backend `name` produces, without initializing it: engine, tfjs and
 * Deno versions, backend, dtype, for wasm the BLAS of the fused MLP step's products when
 * `SAM_BLAS` loads one, and for webgpu the adapter. This is what cache keys depend on.
 * Throws for webgpu when there is no adapter ("WebGPU requested but navigator.gpu has no adapter: …").
 */
export async function tfRuntimeIdentity(name: TfBackendName): Promise<Record<string, string>> {
  if (name !== "cpu" && name !== "wasm" && name !== "webgpu") {
    throw new Error(`unknown tfjs backend "${name}" (expected cpu, wasm or webgpu)`);
  }
  const runtime: Record<string, string> = {
    engine: "tfjs",
    tfjs: tf.version.tfjs,
    deno: navigator.userAgent.match(/Deno\/(\S+)/)?.[1] ?? navigator.userAgent,
    backend: name,
    dtype: "float32",
  };
  // The fused MLP SAM step's products run on this BLAS when one is loaded (tf_mlp_sam.ts).
  const blas = name === "wasm" ? loadBlas() : undefined;
  if (blas) runtime.blas = blas.identity;
  if (name === "webgpu") {
    const probe = await probeWebGpu();
    if (!probe.available) {
      throw new Error(`WebGPU requested but navigator.gpu has no adapter: ${probe.description}`);
    }
    runtime.adapter = probe.description;
  }
  return runtime;
}

/**
 * Makes `name` tfjs's global backend and waits until it is ready. Returns the runtime record of
 * the numbers it will produce: `tfRuntimeIdentity` plus, for wasm, its SIMD and thread support and
 * how the project's product kernel multiplies and adds (engine/gemm_wasm.ts `gemmMadd`).
 * Throws (never falls back silently) when the backend cannot start; webgpu without any adapter
 * throws "WebGPU requested but navigator.gpu has no adapter: …".
 */
export function initTfBackend(name: TfBackendName): Promise<Record<string, string>> {
  const next = switching.then(() => switchBackend(name), () => switchBackend(name));
  switching = next.catch(() => undefined);
  return next;
}

async function switchBackend(name: TfBackendName): Promise<Record<string, string>> {
  // tfjs prints advice ("install tfjs-node") on first use under Deno; the core prints nothing, and
  // PROD only silences tfjs's warnings and logs.
  tf.env().set("PROD", true);
  const runtime = await tfRuntimeIdentity(name);
  if (name === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // setWasmPaths only takes effect before the backend's first initialization.
    if (!wasmPathsSet) {
      wasm.setWasmPaths(wasmDistUrl());
      wasmPathsSet = true;
    }
  } else if (name === "webgpu") {
    await import("@tensorflow/tfjs-backend-webgpu");
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`tfjs backend "${name}" failed to initialize (tf.setBackend returned ${ok})`);
  }
  if (name === "wasm") {
    runtime.wasmSimd = String(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
    runtime.wasmThreads = String(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
    runtime.wasmGemm = gemmMadd();
  }
  return runtime;
}
