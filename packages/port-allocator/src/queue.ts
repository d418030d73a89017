/**
 * A FIFO of (slot, due time) pairs in a growable ring buffer of typed arrays.
 *
 * The allocator puts a port in here with `due = now + delay` where the delay is the
 * same for every entry of one queue (the cooldown, or the busy retry time), so FIFO
 * order is also due-time order: draining pops from the head while `due <= now`, which
 * costs O(1) amortised per port and needs no heap. A slot is in at most one queue at a
 * time, so `capacity` (the allocator's size) bounds the length.
 */
export class SlotQueue {
  #slots: Uint16Array;
  #due: Float64Array;
  #head = 0;
  #length = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
    const initial = Math.min(capacity, 64);
    this.#slots = new Uint16Array(initial);
    this.#due = new Float64Array(initial);
  }

  get length(): number {
    return this.#length;
  }

  /** Due time of the oldest entry; `Infinity` when empty. */
  get headDue(): number {
    return this.#length === 0 ? Infinity : (this.#due[this.#head] as number);
  }

  push(slot: number, due: number): void {
    if (this.#length === this.#slots.length) this.#grow();
    const size = this.#slots.length;
    let at = this.#head + this.#length;
    if (at >= size) at -= size;
    this.#slots[at] = slot;
    this.#due[at] = due;
    this.#length++;
  }

  /** Removes and returns the oldest slot. Call only when `length > 0`. */
  shift(): number {
    const slot = this.#slots[this.#head] as number;
    this.#head = this.#head + 1 === this.#slots.length ? 0 : this.#head + 1;
    this.#length--;
    return slot;
  }

  #grow(): void {
    const size = this.#slots.length;
    const next = Math.min(Math.max(size * 2, 1), this.#capacity);
    const slots = new Uint16Array(next);
    const due = new Float64Array(next);
    for (let i = 0; i < this.#length; i++) {
      let from = this.#head + i;
      if (from >= size) from -= size;
      slots[i] = this.#slots[from] as number;
      due[i] = this.#due[from] as number;
    }
    this.#slots = slots;
    this.#due = due;
    this.#head = 0;
  }
}
