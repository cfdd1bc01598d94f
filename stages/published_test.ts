/**
 * The committed `results/` come from this code: `status` on `experiments/paper.yaml` with an empty
 * cache compares each publishing stage's recipe in `results/manifest.csv` with its recipe now, so a
 * change to a source that a stage's key covers, committed without `deno task reproduce`
 * republishing, fails here. paper.yaml runs on the f64 engine without a BLAS, whose runtime is the
 * same on every machine; `scale.yaml` asks for `backend: auto`, which resolves differently on a
 * machine with a GPU, so `results/scale/` is not checked here (reproduce it with the same change).
 */
import { assert } from "../testing/assert.ts";
import { repoCli } from "./testing/run_config.ts";

const root = new URL("../", import.meta.url).pathname;

Deno.test("results/ are what this code publishes for experiments/paper.yaml", async () => {
  const dir = await Deno.makeTempDir();
  // The published results are computed without a BLAS; a developer's SAM_BLAS would change the
  // f64 runtime, and with it every recipe.
  const blas = Deno.env.get("SAM_BLAS");
  Deno.env.delete("SAM_BLAS");
  try {
    const { code, out } = await repoCli([
      "status",
      ...["--config", `${root}experiments/paper.yaml`, "--results-dir", `${root}results`],
      ...["--cache-dir", `${dir}/cache`],
    ]);
    const last = out.trim().split("\n").at(-1) ?? "";
    assert(code === 0, out);
    assert(
      /^published results in .*results\/ are current: all \d+ publishing stages match/.test(last),
      `${last}\n(stale: run deno task reproduce, with SAM_BLAS unset, and commit results/)`,
    );
  } finally {
    if (blas !== undefined) Deno.env.set("SAM_BLAS", blas);
    await Deno.remove(dir, { recursive: true });
  }
});
