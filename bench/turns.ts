/**
 * Turns of concurrent measurements: one holder at a time, first come first served, so that two
 * measurements that hand the baton on after every round alternate round by round.
 * @module
 */

/** A FIFO lock: `acquire` waits for every earlier holder to release. */
export class Baton {
  #tail: Promise<void> = Promise.resolve();

  /** Waits for the baton; resolves to the function that hands it on (call it once). */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#tail;
    this.#tail = previous.then(() => released);
    return previous.then(() => release);
  }
}
