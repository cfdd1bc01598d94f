/**
 * Runs the Python baselines (bench/baselines/*.py) as subprocesses: finds an interpreter that can
 * import NumPy / PyTorch, sends the job (JSON header line + raw float64 arrays) on stdin and parses
 * one JSON record per task from stdout.
 * @module
 */

/** The Python programs. */
export type BaselineProgram = "numpy" | "torch";

/** One timing task of a baseline program (the fields protocol.py reads). */
export interface BaselineTask {
  /** Identifies the result. */
  readonly key: string;
  /** Id into the job's workloads. */
  readonly workload: string;
  /** gd, sam, 1sam, hvp, lanczos20, hutch100. */
  readonly op: string;
  /** "float64" or "float32" (torch only; numpy is always float64). */
  readonly dtype: string;
  /** Timed repetitions. */
  readonly reps: number;
  /** Untimed calls first. */
  readonly warmup: number;
  /** Calibration target per repetition (ms). */
  readonly target_ms: number;
  /** Upper bound on calls per repetition. */
  readonly max_inner: number;
  /** Fewest repetitions when the budget is tight. */
  readonly min_reps: number;
  /** Wall-time budget of the timed repetitions (ms). */
  readonly budget_ms: number;
  /** Sample index of the one-step check for 1sam (the one our Rng drew). */
  readonly sample?: number;
}

/** A workload as the baselines see it: scalars plus names of arrays in the job payload. */
export interface BaselineWorkload {
  readonly kind: string;
  readonly lr: number;
  readonly rho: number;
  readonly arrays: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** What a baseline returned for one task. */
export interface BaselineResult {
  /** Per-call ms, one per repetition. */
  readonly timesMs: number[];
  /** x after one step from x0 (steps), or H·v (hvp); absent otherwise. */
  readonly check?: number[];
  /** PyTorch: the thread count of the reported (faster) timing. */
  readonly threads?: number;
}

/** A usable interpreter for a program, with the library version, or why there is none. */
export interface PythonFound {
  readonly program: BaselineProgram;
  readonly python?: string;
  readonly version?: string;
  readonly reason?: string;
}

const MODULE: Record<BaselineProgram, string> = { numpy: "numpy", torch: "torch" };

/**
 * The first of `candidates` that can import the program's library. Debian's python3-torch is
 * installed for /usr/bin/python3, which is often not the python3 first on PATH (pyenv).
 */
export async function findPython(
  program: BaselineProgram,
  candidates: readonly string[],
): Promise<PythonFound> {
  const tried: string[] = [];
  for (const python of candidates) {
    try {
      const out = await new Deno.Command(python, {
        args: ["-c", `import ${MODULE[program]} as m; print(m.__version__)`],
        stdout: "piped",
        stderr: "null",
      }).output();
      if (out.success) {
        return { program, python, version: new TextDecoder().decode(out.stdout).trim() };
      }
      tried.push(`${python} (no ${MODULE[program]})`);
    } catch (e) {
      tried.push(`${python} (${e instanceof Error ? e.name : e})`);
    }
  }
  return { program, reason: `no python3 can import ${MODULE[program]}: tried ${tried.join(", ")}` };
}

/**
 * Runs one baseline program on a job and returns its info record and results by task key.
 * Rejects with the program's stderr when it fails.
 */
export async function runBaseline(
  python: string,
  script: string,
  job: {
    workloads: Record<string, BaselineWorkload>;
    tasks: BaselineTask[];
    arrays: Record<string, Float64Array>;
  },
): Promise<{ info: Record<string, unknown>; results: Map<string, BaselineResult> }> {
  const index: Record<string, [number, number]> = {};
  let offset = 0;
  for (const [name, a] of Object.entries(job.arrays)) {
    index[name] = [offset, a.length];
    offset += a.length;
  }
  const payload = new Float64Array(offset);
  for (const [name, a] of Object.entries(job.arrays)) payload.set(a, index[name][0]);
  const header = JSON.stringify({ workloads: job.workloads, tasks: job.tasks, arrays: index });
  const child = new Deno.Command(python, {
    args: [script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(header + "\n"));
  // Little-endian on every platform Deno ships for; protocol.py reads "<f8".
  await writer.write(new Uint8Array(payload.buffer));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${script} failed (exit ${out.code}):\n${err}`);
  }
  let info: Record<string, unknown> = {};
  const results = new Map<string, BaselineResult>();
  for (const line of stdout.split("\n")) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line);
    if (rec.info) info = rec.info;
    else {
      results.set(rec.key, {
        timesMs: rec.times_ms,
        check: rec.check ?? undefined,
        threads: rec.threads ?? undefined,
      });
    }
  }
  return { info, results };
}
