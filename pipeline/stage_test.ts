import { assertEquals } from "../testing/assert.ts";
import { Cache } from "./cache.ts";
import { deepFreeze } from "./hash.ts";
import type { StageInstance } from "./plan.ts";
import { Runner } from "./runner.ts";
import { runtimeMemoKey, type StageKind } from "./stage.ts";

Deno.test("runtimeMemoKey: only the named params count, an absent one differs from null", () => {
  const kind = { runtimeParams: ["backend"] };
  const a = runtimeMemoKey("train", kind, { backend: "f64", seed: 1 });
  assertEquals(a, runtimeMemoKey("train", kind, { seed: 2, backend: "f64" }));
  assertEquals(a === runtimeMemoKey("train", kind, { backend: "wasm", seed: 1 }), false);
  assertEquals(a === runtimeMemoKey("spectral", kind, { backend: "f64", seed: 1 }), false);
  const absent = runtimeMemoKey("train", kind, { seed: 1 });
  assertEquals(absent === runtimeMemoKey("train", kind, { seed: 1, backend: null }), false);
  // Without runtimeParams every param counts, in any key order.
  assertEquals(
    runtimeMemoKey("k", {}, { a: 1, b: [2] }),
    runtimeMemoKey("k", {}, { b: [2], a: 1 }),
  );
  assertEquals(runtimeMemoKey("k", {}, { a: 1 }) === runtimeMemoKey("k", {}, { a: 2 }), false);
});

Deno.test("a kind's runtime is resolved once per distinct runtimeParams, and each key still covers it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const calls: string[] = [];
    const kind = (runtimeParams?: string[]): StageKind => ({
      kind: "k",
      version: 1,
      sources: [],
      runtimeParams,
      runtime(params) {
        calls.push(String(params.backend));
        return Promise.resolve({ backend: String(params.backend) });
      },
      run: (ctx) => ctx.write("out.txt", JSON.stringify(ctx.params)),
    });
    const plan: StageInstance[] = ["f64", "f64", "wasm", "f64"].map((backend, seed) => ({
      id: `k/run${seed}`,
      kind: "k",
      experiment: "e",
      params: deepFreeze({ backend, seed }),
      inputs: {},
    }));
    for (const [runtimeParams, expected] of [[["backend"], 2], [undefined, 4]] as const) {
      calls.length = 0;
      const cache = new Cache(`${dir}/${expected}`);
      const runner = new Runner({
        registry: { k: kind(runtimeParams && [...runtimeParams]) },
        cache,
      });
      const summary = await runner.run(plan);
      assertEquals(summary.ran.length, 4);
      assertEquals(calls.length, expected);
      const runtimes = plan.map((s) => summary.outcomes.get(s.id)!.manifest.runtime.backend);
      assertEquals(runtimes, ["f64", "f64", "wasm", "f64"]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
