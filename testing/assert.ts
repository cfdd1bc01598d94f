/**
 * Test assertions: node's strict assert plus a relative-closeness helper used by the numerical tests.
 * @module
 */
import assertNode from "node:assert/strict";

/** Fails unless `cond` is truthy. */
export function assert(cond: unknown, msg?: string): asserts cond {
  assertNode.ok(cond, msg);
}

/** Fails unless `actual` and `expected` are deeply and strictly equal. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assertNode.deepStrictEqual(actual, expected, msg);
}

/** Fails unless the function throws an error whose message matches `pattern`. */
export function assertThrows(fn: () => unknown, pattern: RegExp): void {
  assertNode.throws(fn, pattern);
}

/** Fails unless the promise rejects with an error whose message matches `pattern`. */
export async function assertRejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assertNode.rejects(fn, pattern);
}

/**
 * Fails unless |actual − expected| ≤ rtol·|expected| + atol, elementwise for arrays.
 * The message names the worst element so a failure says by how much.
 */
export function assertClose(
  actual: number | ArrayLike<number>,
  expected: number | ArrayLike<number>,
  opts: { rtol?: number; atol?: number; msg?: string } = {},
): void {
  const rtol = opts.rtol ?? 1e-12, atol = opts.atol ?? 0;
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  assertNode.equal(a.length, e.length, `length ${a.length} != ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - e[i]);
    if (!(err <= rtol * Math.abs(e[i]) + atol)) {
      throw new assertNode.AssertionError({
        message: `${opts.msg ?? "not close"}: [${i}] ${a[i]} vs ${
          e[i]
        } (|diff| ${err}, rtol ${rtol}, atol ${atol})`,
      });
    }
  }
}
