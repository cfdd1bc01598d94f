/**
 * The single CLI entry: `reproduce | stage | status | clean | publish | export` (see
 * `deno task <command> --help`).
 * @module
 */
import { runCli } from "./pipeline/cli.ts";
import { TRAIN_RUNS } from "./stages/run_fields.ts";
import { DEFAULT_BLAS_PATH } from "./core/engine/blas.ts";

if (import.meta.main) {
  Deno.exit(
    await runCli(Deno.args, {
      // Loaded after the experiment file is checked: its mistakes are reported in milliseconds.
      registry: async () => (await import("./stages/registry.ts")).stageKinds,
      runs: TRAIN_RUNS,
      registryUrl: new URL("./stages/registry.ts", import.meta.url).href,
      entry: new URL(import.meta.url).pathname,
      // The OpenBLAS that SAM_BLAS opts in to (deno.json's tasks allow it alone).
      ffi: [DEFAULT_BLAS_PATH],
    }),
  );
}
