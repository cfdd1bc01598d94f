/**
 * The command table of the CLI: every command's options (with their one-letter aliases), usage,
 * description and examples, and the help texts built from it.
 * @module
 */

/** The experiment file commands read without `--config`. */
export const DEFAULT_CONFIG = "experiments/paper.yaml";
/** The commands, in help order. */
export const COMMANDS = ["reproduce", "stage", "status", "clean", "publish", "export"] as const;
/** A command name. */
export type Command = typeof COMMANDS[number];

/** One option of a command. */
export interface OptSpec {
  readonly type: "string" | "boolean";
  /** One-letter alias (as Snakemake and DVC users expect: -n, -j, -f). */
  readonly short?: string;
  readonly multiple?: boolean;
  readonly arg?: string;
  readonly help: string;
}

const COMMON: Record<string, OptSpec> = {
  "cache-dir": { type: "string", arg: "DIR", help: "cache directory (default .cache)" },
  help: { type: "boolean", help: "show this help" },
};
const CONFIG: OptSpec = {
  type: "string",
  arg: "FILE",
  help: `experiment file (default ${DEFAULT_CONFIG})`,
};
const BACKEND: OptSpec = {
  type: "string",
  arg: "NAME",
  help: "backend of every run: auto|f64|cpu|wasm|webgpu (overrides the file)",
};
const RESULTS: OptSpec = {
  type: "string",
  arg: "DIR",
  help: "results directory (default results/, or results/<name>/ for a set not named paper)",
};
const JOBS: OptSpec = {
  type: "string",
  short: "j",
  arg: "N",
  help: "stages computing at once (default: number of cores)",
};
const YES: OptSpec = {
  type: "boolean",
  help: "run even when the plan's total optimizer steps exceed the budget (max_total_steps)",
};

/** Every command's usage, description, options and examples. */
export const SPECS: Record<
  Command,
  { usage: string; about: string; opts: Record<string, OptSpec>; examples: string[] }
> = {
  reproduce: {
    usage: "reproduce [options]",
    about:
      "Runs every stage of an experiment file, reusing cached stages, and publishes its tables.",
    opts: {
      config: CONFIG,
      backend: BACKEND,
      only: {
        type: "string",
        multiple: true,
        arg: "PATTERN",
        help: "run only matching stage ids and what they need (* and ? wildcards; repeatable)",
      },
      force: {
        type: "boolean",
        short: "f",
        help: "recompute the selected stages even when cached",
      },
      "dry-run": { type: "boolean", short: "n", help: "print what would run and why, run nothing" },
      jobs: JOBS,
      "results-dir": RESULTS,
      yes: YES,
      ...COMMON,
    },
    examples: [
      "deno task reproduce",
      "deno task reproduce --config experiments/quick.yaml",
      "deno task reproduce --only 'train/fig1-toy/*' --dry-run",
      "deno task reproduce --only '*/fig1-toy' --force --backend f64",
    ],
  },
  stage: {
    usage: "stage STAGE_ID [options]",
    about: "Runs exactly one stage instance; its upstream must be in the cache (never recomputed).",
    opts: {
      config: CONFIG,
      backend: BACKEND,
      force: { type: "boolean", short: "f", help: "recompute it even when cached" },
      jobs: JOBS,
      "results-dir": RESULTS,
      "no-publish": { type: "boolean", help: "do not publish a tabulate or report stage's files" },
      marker: {
        type: "string",
        arg: "FILE",
        help: "when done, write FILE (stage id and cache key; exported workflows' job outputs)",
      },
      yes: YES,
      ...COMMON,
    },
    examples: [
      "deno task stage train/fig1-toy/sam-rho0.01-seed0",
      "deno task stage tabulate/fig1-toy --force --config experiments/quick.yaml",
    ],
  },
  status: {
    usage: "status [TARGET...] [options]",
    about:
      "Prints one line per stage instance (or those matching TARGET patterns): up to date / changed (what) / missing / incomplete, and whether the published results are current.",
    opts: {
      config: CONFIG,
      backend: BACKEND,
      json: { type: "boolean", help: "print a JSON array instead of lines" },
      "results-dir": RESULTS,
      ...COMMON,
    },
    examples: [
      "deno task status",
      "deno task status 'train/fig1-toy/*' --config experiments/quick.yaml",
      "deno task status --json",
    ],
  },
  clean: {
    usage: "clean [options]",
    about:
      "Removes cache entries: all of them, or with --unused those no experiment file references.",
    opts: {
      unused: { type: "boolean", help: "keep the entries the experiment files still use" },
      wait: {
        type: "boolean",
        help: "wait for running reproduce/stage processes instead of refusing",
      },
      yes: { type: "boolean", help: "remove every entry without asking (without --unused)" },
      config: {
        type: "string",
        multiple: true,
        arg: "FILE",
        help: "experiment files that count for --unused (default: all experiments/*.yaml)",
      },
      ...COMMON,
    },
    examples: ["deno task clean --unused", "deno task clean --yes", "deno task clean --wait"],
  },
  publish: {
    usage: "publish [options]",
    about: "Publishes an experiment file's tables from the cache; computes nothing.",
    opts: {
      config: CONFIG,
      backend: BACKEND,
      "results-dir": RESULTS,
      marker: { type: "string", arg: "FILE", help: "when done, write FILE" },
      ...COMMON,
    },
    examples: [
      "deno task publish --config experiments/quick.yaml",
      "deno task publish --cache-dir /shared/sam-cache   # see README, Running on a cluster",
    ],
  },
  export: {
    usage: "export snakemake [options]",
    about: "Writes a Snakefile running the same plan as reproduce, one job per stage instance.",
    opts: {
      config: CONFIG,
      backend: BACKEND,
      out: { type: "string", arg: "FILE", help: "the Snakefile to write (default Snakefile)" },
      "results-dir": RESULTS,
      yes: YES,
      ...COMMON,
    },
    examples: [
      "deno task export snakemake --config experiments/quick.yaml",
      "deno task export snakemake --cache-dir /shared/sam-cache --out /shared/Snakefile",
    ],
  },
};

/** The help of `main.ts` without a command. */
export function mainHelp(): string {
  return [
    "Usage: main.ts COMMAND [options]   (deno task COMMAND [options])",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.padEnd(10)} ${SPECS[c].about}`),
    "",
    "Run `COMMAND --help` for its options and examples.",
    "",
  ].join("\n");
}

/** The help of one command; `examples` replaces its static examples. */
export function commandHelp(cmd: Command, examples?: string[]): string {
  const s = SPECS[cmd];
  const rows = Object.entries(s.opts).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ""}--${name}${o.arg ? ` ${o.arg}` : ""}`;
    return `  ${left.padEnd(26)} ${o.help}`;
  });
  return [
    `Usage: deno task ${s.usage}`,
    "",
    s.about,
    "",
    "Options:",
    ...rows,
    "",
    "Examples:",
    ...(examples ?? s.examples).map((e) => `  ${e}`),
    "",
  ].join("\n");
}
