import { assertEquals, assertRejects } from "../../testing/assert.ts";
import { type GpuLike, probeWebGpu } from "./backend.ts";
import { selectBackend } from "./select.ts";

/** A fake `navigator.gpu` whose adapter has the given fallback flag (or none at all). */
function fakeGpu(adapter: "none" | "real" | "fallback" | "fallback-legacy"): GpuLike {
  const made = adapter === "none" ? null : {
    // Current spec: the flag sits on adapter.info; older runtimes put it on the adapter.
    info: { description: "Fake GPU", vendor: "acme", isFallbackAdapter: adapter === "fallback" },
    ...(adapter === "fallback-legacy" ? { isFallbackAdapter: true } : {}),
  };
  return { requestAdapter: () => Promise.resolve(made as unknown as GPUAdapter | null) };
}

const sanitize = { sanitizeResources: false, sanitizeOps: false };

Deno.test("auto picks webgpu only on a real (non-fallback) adapter", async () => {
  const closed = { closedForm: false };
  assertEquals(await selectBackend("auto", { ...closed, gpu: fakeGpu("real") }), "webgpu");
  assertEquals(await selectBackend("auto", { ...closed, gpu: fakeGpu("fallback") }), "wasm");
  assertEquals(await selectBackend("auto", { ...closed, gpu: fakeGpu("fallback-legacy") }), "wasm");
  assertEquals(await selectBackend("auto", { ...closed, gpu: fakeGpu("none") }), "wasm");
  assertEquals(await selectBackend("auto", { ...closed, gpu: null }), "wasm");
});

Deno.test("auto picks f64 for closed-form problems that prefer it, else as above", async () => {
  for (const gpu of [fakeGpu("real"), fakeGpu("fallback"), null]) {
    assertEquals(await selectBackend("auto", { closedForm: true, preferF64: true, gpu }), "f64");
  }
  assertEquals(await selectBackend("auto", { closedForm: true, gpu: fakeGpu("fallback") }), "wasm");
  assertEquals(
    await selectBackend("auto", { closedForm: false, preferF64: true, gpu: fakeGpu("real") }),
    "webgpu",
  );
});

Deno.test("explicit requests are kept; webgpu without any adapter names the cause", async () => {
  for (const b of ["f64", "cpu", "wasm"] as const) {
    assertEquals(await selectBackend(b, { closedForm: false, gpu: null }), b);
  }
  assertEquals(
    await selectBackend("webgpu", { closedForm: true, gpu: fakeGpu("fallback") }),
    "webgpu",
  );
  await assertRejects(
    () => selectBackend("webgpu", { closedForm: false, gpu: fakeGpu("none") }),
    /WebGPU requested but navigator.gpu has no adapter: requestAdapter\(\) returned null/,
  );
  await assertRejects(
    () => selectBackend("webgpu", { closedForm: false, gpu: null }),
    /WebGPU requested but navigator.gpu has no adapter: navigator.gpu is undefined/,
  );
  await assertRejects(
    () => selectBackend("gpu" as "auto", { closedForm: false }),
    /unknown backend "gpu"/,
  );
});

Deno.test({
  name: "on this machine: auto follows the real adapter; explicit webgpu works on any adapter",
  ...sanitize,
  async fn() {
    const probe = await probeWebGpu();
    // CI machines have only Mesa's llvmpipe (a fallback adapter): auto must not pick it.
    const expected = probe.available && !probe.fallback ? "webgpu" : "wasm";
    assertEquals(await selectBackend("auto", { closedForm: false }), expected);
    assertEquals(await selectBackend("auto", { closedForm: true, preferF64: true }), "f64");
    if (probe.available) {
      assertEquals(await selectBackend("webgpu", { closedForm: false }), "webgpu");
    } else {
      await assertRejects(
        () => selectBackend("webgpu", { closedForm: false }),
        /WebGPU requested but navigator.gpu has no adapter/,
      );
    }
  },
});
