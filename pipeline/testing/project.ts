/**
 * A throw-away project for pipeline tests: a temporary directory with the test stage kinds'
 * source files, an experiment file, and helpers to run the CLI in-process or as a subprocess.
 * @module
 */
import { runCli } from "../cli.ts";
import { testStageKinds } from "./test_stages.ts";
import { TRAIN_RUNS } from "../../stages/run_fields.ts";

/** The stage instance ids of TEST_CONFIG, in plan order. */
export const TEST_IDS = [
  "dataset/toy",
  "train/toy/sam-rho0.01",
  "train/toy/sam-rho0.02",
  "train/toy/gd",
  "spectral/toy/sam-rho0.01",
  "spectral/toy/sam-rho0.02",
  "spectral/toy/gd",
  "tabulate/toy",
];

/** The default experiment file of a test project (one sweep, a spectral block, three tables). */
export const TEST_CONFIG = `name: t
experiments:
  - id: toy
    dataset: { kind: toy, n: 3, seed: 1 }
    train:
      defaults: { steps: 40, lr: 0.1 }
      runs:
        - { name: sam, optimizer: sam, rho: [0.01, 0.02] }
        - { name: gd, optimizer: gd }
    spectral: { k: 2 }
    tables: [trajectory, spectra, summary]
`;

/** What one CLI invocation printed and returned. */
export interface CliResult {
  /** Exit code. */
  readonly code: number;
  /** Standard output. */
  readonly out: string;
  /** Standard error. */
  readonly err: string;
  /** Ids the run computed (`run` lines). */
  readonly ran: string[];
  /** Ids the run reused (`cached` lines). */
  readonly reused: string[];
}

/** A temporary project directory. */
export class TestProject {
  private constructor(readonly dir: string) {}

  /** Creates the directory with `src/<kind>.txt` for every test kind and `t.yaml`. */
  static async create(config = TEST_CONFIG): Promise<TestProject> {
    const dir = await Deno.makeTempDir({ prefix: "pipeline-test-" });
    await Deno.mkdir(`${dir}/src`);
    for (const kind of Object.keys(testStageKinds)) {
      await Deno.writeTextFile(`${dir}/src/${kind}.txt`, `${kind} v1\n`);
    }
    await Deno.writeTextFile(`${dir}/t.yaml`, config);
    return new TestProject(dir);
  }

  /** Replaces `from` by `to` in a file of the project. */
  async edit(rel: string, from: string, to: string): Promise<void> {
    const text = await Deno.readTextFile(`${this.dir}/${rel}`);
    if (!text.includes(from)) throw new Error(`${rel} does not contain ${from}`);
    await Deno.writeTextFile(`${this.dir}/${rel}`, text.replace(from, to));
  }

  /** Reads a published table. */
  async table(experiment: string, name: string): Promise<string> {
    return await Deno.readTextFile(`${this.dir}/results/${experiment}/${name}.csv`);
  }

  /** Flags pointing the CLI at this project's config, cache and results. */
  private flags(args: string[]): string[] {
    const cache = ["--cache-dir", `${this.dir}/.cache`];
    const config = ["--config", `${this.dir}/t.yaml`];
    if (args[0] === "clean") return args.includes("--unused") ? [...cache, ...config] : cache;
    if (args[0] === "status") return [...cache, ...config, "--results-dir", `${this.dir}/results`];
    return [...cache, ...config, "--results-dir", `${this.dir}/results`];
  }

  /** Runs the CLI in this process with the test stage kinds (stages in this thread). */
  async cli(...args: string[]): Promise<CliResult> {
    let out = "", err = "";
    const code = await runCli([...args, ...this.flags(args)], {
      registry: testStageKinds,
      runs: TRAIN_RUNS,
      root: this.dir,
      tty: false,
      write: (t) => void (out += t),
      writeErr: (t) => void (err += t),
    });
    return parse(code, out, err);
  }

  /**
   * Starts the CLI as a subprocess in the project directory, with the least permissions the real
   * CLI gets (read the project and the repository, write only the cache and results).
   */
  spawn(...args: string[]): Deno.ChildProcess {
    const repo = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
    return new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--config",
        `${repo}/deno.json`,
        `--allow-read=.,${repo}`,
        "--allow-write=.cache,results",
        "--allow-env",
        `${repo}/pipeline/testing/cli_entry.ts`,
        ...args,
        ...(args[0] === "clean" && !args.includes("--unused") ? [] : ["--config", "t.yaml"]),
        ...(["reproduce", "stage", "status"].includes(args[0]) && !args.includes("--results-dir")
          ? ["--results-dir", "results"]
          : []),
      ],
      cwd: this.dir,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  }

  /** Runs the CLI as a subprocess to completion. */
  async run(...args: string[]): Promise<CliResult> {
    const r = await this.spawn(...args).output();
    const dec = new TextDecoder();
    return parse(r.code, dec.decode(r.stdout), dec.decode(r.stderr));
  }

  /** Removes the directory. */
  async remove(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

function parse(code: number, out: string, err: string): CliResult {
  const ids = (word: string) =>
    out.split("\n").filter((l) => l.startsWith(`${word} `)).map((l) => l.split(/\s+/)[1]);
  return { code, out, err, ran: ids("run"), reused: ids("cached") };
}

/** Runs `fn` on a fresh project made from `config`, and removes the project afterwards. */
export async function withProject(
  config: string,
  fn: (p: TestProject) => Promise<void>,
): Promise<void> {
  const p = await TestProject.create(config);
  try {
    await fn(p);
  } finally {
    await p.remove();
  }
}
