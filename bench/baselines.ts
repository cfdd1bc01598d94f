/**
 * Runs the Python baselines (bench/baselines/*.py) as long-lived subprocesses: finds an interpreter
 * that can import NumPy / PyTorch, sends the job (JSON header line + raw float64 arrays) on stdin,
 * then one command per line (calibrate, rep, roofline) and reads one JSON answer per command.
 * @module
 */

/** The Python programs: NumPy, PyTorch on the CPU, and PyTorch on a CUDA device. */
export type BaselineProgram = "numpy" | "torch" | "torch-cuda";

/** One timing task of a baseline program (the fields protocol.py reads). */
export interface BaselineTask {
  /** Identifies the result. */
  readonly key: string;
  /** Id into the job's workloads. */
  readonly workload: string;
  /** gd, sam, 1sam, hvp, lanczos20, hutch100. */
  readonly op: string;
  /** "float64" or "float32". */
  readonly dtype: string;
  /** Untimed calls first. */
  readonly warmup: number;
  /** Calibration target per repetition (ms). */
  readonly target_ms: number;
  /** Upper bound on calls per repetition. */
  readonly max_inner: number;
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

/** A usable interpreter for a program, with the library version, or why there is none. */
export interface PythonFound {
  readonly program: BaselineProgram;
  readonly python?: string;
  readonly version?: string;
  readonly reason?: string;
}

const MODULE: Record<BaselineProgram, string> = {
  numpy: "numpy",
  torch: "torch",
  "torch-cuda": "torch with CUDA",
};

/** The probe each program's interpreter must pass: prints the version, fails without the library. */
const PROBE: Record<BaselineProgram, string> = {
  numpy: "import numpy as m; print(m.__version__)",
  torch: "import torch as m; print(m.__version__)",
  "torch-cuda": "import torch as m; assert m.cuda.is_available(); print(m.__version__)",
};

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
        args: ["-c", PROBE[program]],
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

/** The BLAS a baseline process loaded, as protocol.py's blas_info reads it from its memory map. */
export interface BlasInfo {
  /** "OpenBLAS", "MKL", "BLIS", "reference BLAS (netlib)" or "unknown". */
  readonly name: string;
  /** Configuration string (OpenBLAS: version, build options, kernel). */
  readonly version: string;
  /** Kernel (core type) the library selected at load time. */
  readonly core: string;
  /** The library's own thread count. */
  readonly threads: number | null;
  /** True for the netlib reference BLAS: ratios against it are withheld. */
  readonly reference: boolean;
  /** Every mapped library whose name mentions blas, mkl or blis. */
  readonly libraries: readonly string[];
}

/** The job a baseline process reads first: workloads with their arrays. */
export interface BaselineJob {
  readonly workloads: Record<string, BaselineWorkload>;
  readonly arrays: Record<string, Float64Array>;
}

/**
 * One long-lived baseline process (protocol.py's command loop) at a fixed thread count, so its
 * repetitions can be interleaved with ours round by round.
 */
export class BaselineProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: Promise<string>;
  /** The info record (library versions, CPU, BLAS). */
  info: Record<string, unknown> = {};

  private constructor(
    readonly program: BaselineProgram,
    readonly threads: number,
    child: Deno.ChildProcess,
  ) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#lines = lines(child.stdout)[Symbol.asyncIterator]();
    this.#stderr = new Response(child.stderr).text();
  }

  /**
   * Starts `script` under `python` with every BLAS/OpenMP thread variable set to `threads` (and
   * `env` added), sends the job and reads the info record. Rejects with the program's stderr when it fails.
   */
  static async start(
    python: string,
    script: string,
    opts: {
      program: BaselineProgram;
      threads: number;
      job: BaselineJob;
      env?: Readonly<Record<string, string>>;
    },
  ): Promise<BaselineProcess> {
    const t = String(opts.threads);
    const child = new Deno.Command(python, {
      args: [script],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: {
        OPENBLAS_NUM_THREADS: t,
        OMP_NUM_THREADS: t,
        MKL_NUM_THREADS: t,
        // Idle threads sleep at once: otherwise a multi-threaded baseline's threads spin after each
        // call (OpenMP's wait policy; OpenBLAS's 2^28-cycle default), on the cores the next timed
        // call of ours needs (interleaved rounds run the two back to back).
        OMP_WAIT_POLICY: "PASSIVE",
        OPENBLAS_THREAD_TIMEOUT: "4",
        BENCH_THREADS: t,
        ...opts.env,
      },
    }).spawn();
    const proc = new BaselineProcess(opts.program, opts.threads, child);
    const index: Record<string, [number, number]> = {};
    let offset = 0;
    for (const [name, a] of Object.entries(opts.job.arrays)) {
      index[name] = [offset, a.length];
      offset += a.length;
    }
    const payload = new Float64Array(offset);
    for (const [name, a] of Object.entries(opts.job.arrays)) payload.set(a, index[name][0]);
    const header = JSON.stringify({ workloads: opts.job.workloads, arrays: index });
    await proc.#writer.write(new TextEncoder().encode(header + "\n"));
    // Little-endian on every platform Deno ships for; protocol.py reads "<f8".
    await proc.#writer.write(new Uint8Array(payload.buffer));
    proc.info = (await proc.#read()).info as Record<string, unknown>;
    return proc;
  }

  /** The BLAS the process loaded. */
  get blas(): BlasInfo {
    return this.info.blas as BlasInfo;
  }

  /** One line naming the BLAS (library, configuration, kernel, threads). */
  get blasText(): string {
    return String(this.info.blas_text ?? "unknown");
  }

  async #read(): Promise<Record<string, unknown>> {
    const next = await this.#lines.next();
    if (next.done) {
      const status = await this.#child.status;
      const err = (await this.#stderr).trim().split("\n").slice(-5).join("\n");
      throw new Error(`${this.program} baseline exited (code ${status.code}):\n${err}`);
    }
    return JSON.parse(next.value);
  }

  async #ask(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(cmd) + "\n"));
    return await this.#read();
  }

  /** Builds, checks and calibrates a task; its one-step check (x1, or H·v) when it has one. */
  async calibrate(task: BaselineTask): Promise<{ inner: number; check?: number[] }> {
    const r = await this.#ask({ cmd: "calibrate", task });
    return { inner: r.inner as number, check: (r.check as number[] | null) ?? undefined };
  }

  /** One timed repetition of a calibrated task: ms per call and the load average after it. */
  async rep(key: string): Promise<{ ms: number; load: number }> {
    const r = await this.#ask({ cmd: "rep", key });
    return { ms: r.ms as number, load: (r.load as number | null) ?? Number.NaN };
  }

  /** Measured GEMM GFLOP/s on a workload's shapes in one float width (NaN without GEMMs). */
  async roofline(workload: string, dtype: string): Promise<number> {
    const r = await this.#ask({ cmd: "roofline", workload, dtype });
    return (r.gflops as number | null) ?? Number.NaN;
  }

  /** Ends the process. */
  async close(): Promise<void> {
    try {
      await this.#writer.write(new TextEncoder().encode(JSON.stringify({ cmd: "quit" }) + "\n"));
      await this.#writer.close();
    } catch {
      // Already gone: its status says why.
    }
    await this.#child.status;
    await this.#stderr;
  }
}

/** Lines of a byte stream. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncIterable<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) yield line;
    }
  }
  if (buf.trim()) yield buf;
}
