/**
 * Two cold runs of the same experiment file in separate caches give the same cache keys and
 * byte-identical published files: no artifact carries a wall time, a path or a random seed of its
 * own, so a rerun reuses what it can and a resumed run matches an uninterrupted one.
 */
import { assertEquals } from "../testing/assert.ts";
import { runConfig } from "./testing/run_config.ts";

const CONFIG = `name: det
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 2000, lr: 0.05, rho: 0.01, x0: [1, 1, 0.3, 0.3] }
      runs:
        - { name: sam, optimizer: sam }
        - { name: 1sam, optimizer: 1sam, seed: [0, 1] }
    spectral: { checkpoints: last, k: 2, at_manifold: true }
    tables: [trajectory, spectra, summary]
`;

/** Reproduces the config cold in `dir`; returns the published files by path. */
async function coldRun(dir: string): Promise<Map<string, string>> {
  const { code } = await runConfig(dir, CONFIG);
  assertEquals(code, 0);
  const files = new Map<string, string>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${dir}/r/${rel}`)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else files.set(path, await Deno.readTextFile(`${dir}/r/${path}`));
    }
  };
  await walk("");
  return files;
}

Deno.test("two cold runs give the same keys and byte-identical results", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
  try {
    const first = await coldRun(a), second = await coldRun(b);
    assertEquals([...second.keys()].sort(), [...first.keys()].sort());
    for (const [path, text] of first) assertEquals(second.get(path), text, path);
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});
