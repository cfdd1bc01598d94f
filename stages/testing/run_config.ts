/**
 * Test support: runs the real CLI with the real stage kinds on an experiment file written into a
 * temporary directory (cache in `<dir>/c`, results in `<dir>/r`).
 * @module
 */
import { runCli } from "../../pipeline/cli.ts";
import { stageKinds } from "../registry.ts";
import { TRAIN_RUNS } from "../run_fields.ts";

/** Exit code and standard error (with `dir` replaced by `DIR`) of one CLI command. */
export interface ConfigRun {
  /** Exit code. */
  readonly code: number;
  /** Standard error, the temporary directory written as `DIR`. */
  readonly err: string;
}

/**
 * Writes `text` to `<dir>/x.yaml` and runs `command` (`reproduce` in one thread, or `status`) on it.
 */
export async function runConfig(
  dir: string,
  text: string,
  command: "reproduce" | "status" = "reproduce",
): Promise<ConfigRun> {
  await Deno.writeTextFile(`${dir}/x.yaml`, text);
  const args = [command, "--config", `${dir}/x.yaml`, "--cache-dir", `${dir}/c`];
  if (command === "reproduce") args.push("--results-dir", `${dir}/r`, "--jobs", "1");
  let err = "";
  const code = await runCli(args, {
    runs: TRAIN_RUNS,
    registry: stageKinds,
    write: () => {},
    writeErr: (t) => err += t.replaceAll(dir, "DIR"),
  });
  return { code, err };
}

/**
 * Runs one CLI command on the experiment file `runConfig` wrote into `dir` (its cache in `<dir>/c`),
 * `args` before the config and cache flags; returns the exit code and everything printed.
 */
export async function cliOn(
  dir: string,
  ...args: string[]
): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runCli([...args, "--config", `${dir}/x.yaml`, "--cache-dir", `${dir}/c`], {
    runs: TRAIN_RUNS,
    registry: stageKinds,
    write: (t) => void (out += t),
    writeErr: (t) => void (out += t),
  });
  return { code, out };
}

/**
 * Runs one CLI command with the repository's stage kinds in worker threads, sources relative to the
 * repository's root; returns the exit code and everything printed.
 */
export async function repoCli(args: readonly string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runCli(args, {
    registry: stageKinds,
    runs: TRAIN_RUNS,
    registryUrl: new URL("../registry.ts", import.meta.url).href,
    write: (t) => void (out += t),
    writeErr: (t) => void (out += t),
    tty: false,
    root: new URL("../../", import.meta.url).pathname,
  });
  return { code, out };
}

/**
 * Runs `reproduce` on an experiment file of the repository in worker threads, with cache and
 * results under `dir` (`<dir>/cache`, `<dir>/results`); returns the exit code and everything
 * printed.
 */
export function reproduceInto(
  dir: string,
  config: string,
  opts: { jobs?: number } = {},
): Promise<{ code: number; out: string }> {
  const args = ["reproduce", "--config", config, "--cache-dir", `${dir}/cache`];
  args.push("--results-dir", `${dir}/results`);
  if (opts.jobs !== undefined) args.push("--jobs", String(opts.jobs));
  return repoCli(args);
}
