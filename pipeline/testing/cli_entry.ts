/**
 * The real CLI with the test stage kinds, for subprocess tests (`deno run … cli_entry.ts reproduce …`).
 * @module
 */
import { runCli } from "../cli.ts";
import { testStageKinds } from "./test_stages.ts";
import { TRAIN_RUNS } from "../../stages/run_fields.ts";

if (import.meta.main) {
  Deno.exit(
    await runCli(Deno.args, {
      runs: TRAIN_RUNS,
      registry: testStageKinds,
      registryUrl: new URL("./test_stages.ts", import.meta.url).href,
      entry: new URL(import.meta.url).pathname,
    }),
  );
}
