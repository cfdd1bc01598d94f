/**
 * A sweep entry under interruption (the real stages, in a subprocess): a reproduce killed with
 * SIGKILL while a runs-axis group computes leaves its members "incomplete", never half an entry;
 * the next reproduce computes the group once more and publishes the bytes of an uninterrupted run.
 */
import { assert, assertEquals } from "../testing/assert.ts";
import { cliOn, runConfig } from "./testing/run_config.ts";

// Sixteen runs × 2·10⁵ steps: the group's one job outlasts the kill sent at its start line.
const SEEDS = Array.from({ length: 16 }, (_, i) => i).join(", ");
const SWEEP = `name: sweep
backend: f64
experiments:
  - id: toy
    dataset: { kind: toy4d, family: paper }
    train:
      defaults: { steps: 200000, log_per_decade: 1, lr: 0.05, rho: 0.05, x0: [1, 1, 0.3, 0.3] }
      runs:
        - { name: s, optimizer: 1sam, seed: [${SEEDS}], runs_axis: true }
    tables: [trajectory, summary]
`;

const TABLES = ["summary.csv", "trajectory.csv", "params.csv"];

async function published(dir: string): Promise<string[]> {
  return await Promise.all(TABLES.map((t) => Deno.readTextFile(`${dir}/r/toy/${t}`)));
}

Deno.test("a reproduce killed inside a sweep's job leaves it incomplete and resumes to the same bytes", async () => {
  const ref = await Deno.makeTempDir();
  const dir = await Deno.makeTempDir();
  try {
    assertEquals((await runConfig(ref, SWEEP)).code, 0);
    await Deno.writeTextFile(`${dir}/x.yaml`, SWEEP);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "reproduce",
        ...["--config", `${dir}/x.yaml`, "--cache-dir", `${dir}/c`, "--results-dir", `${dir}/r`],
        ...["--jobs", "1"],
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!/^run\s+train\//m.test(out)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`reproduce ended before its sweep started:\n${out}`);
      out += value;
    }
    // The job's directory and lock exist from before its start line (cache.ts `begin`).
    child.kill("SIGKILL");
    await reader.cancel();
    await child.stderr.cancel();
    assertEquals((await child.status).signal, "SIGKILL");
    assert(!/^done\s+train\//m.test(out), `the group finished before the kill:\n${out}`);

    const { code, out: status } = await cliOn(dir, "status");
    assertEquals(code, 0, status);
    const members = status.split("\n").filter((l) => l.includes(" train/toy/s-seed"));
    assertEquals(members.length, 16, status);
    for (const line of members) assert(line.startsWith("incomplete "), status);

    const resumed = await runConfig(dir, SWEEP);
    assertEquals(resumed.code, 0, resumed.err);
    assertEquals(await published(dir), await published(ref));
    const names = (await Array.fromAsync(Deno.readDir(`${dir}/c`))).map((e) => e.name);
    assertEquals(names.filter((n) => n.includes(".") && n !== "cache.lock"), []);
  } finally {
    await Deno.remove(ref, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});
