/**
 * The single CLI entry: `reproduce | stage | status | clean | publish | export` (see
 * `deno task <command> --help`).
 * @module
 */
import { stageKinds } from "./stages/registry.ts";
import { runCli } from "./pipeline/cli.ts";

if (import.meta.main) {
  Deno.exit(
    await runCli(Deno.args, {
      registry: stageKinds,
      registryUrl: new URL("./stages/registry.ts", import.meta.url).href,
      entry: new URL(import.meta.url).pathname,
    }),
  );
}
