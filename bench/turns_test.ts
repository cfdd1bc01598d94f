import { assertEquals } from "../testing/assert.ts";
import { Baton } from "./turns.ts";

Deno.test("Baton: two holders that hand on after every round alternate; one holder at a time", async () => {
  const baton = new Baton();
  const log: string[] = [];
  let inside = 0;
  const worker = async (name: string, rounds: number) => {
    let release = await baton.acquire();
    for (let r = 0; r < rounds; r++) {
      inside++;
      log.push(`${name}${r}${inside}`);
      await new Promise((resolve) => setTimeout(resolve, name === "a" ? 2 : 0));
      inside--;
      release();
      release = await baton.acquire();
    }
    release();
  };
  await Promise.all([worker("a", 3), worker("b", 3)]);
  // Each entry: holder, round, holders inside at that moment (always 1).
  assertEquals(log, ["a01", "b01", "a11", "b11", "a21", "b21"]);
});
