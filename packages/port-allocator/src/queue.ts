/**
 * A FIFO of (slot, due time) pairs in a growable ring buffer of typed arrays.
 *
 * The allocator puts a port in here with `due = now + delay` where the delay is the
 * same for every entry of one queue (the cooldown, or the busy retry time), so FIFO
 * order is also due-time order: draining pops from the head while `due <= now`, which
 * costs O(1) amortised per port and needs no heap. A slot is normally in at most one
 * queue at a time, so `capacity` (the allocator's size) bounds the length; the cooling
 * queue may also hold stale entries of ports a peer took back (allocator.ts), at most
 * one per reuse in the last cooldown, so it grows past `capacity` when it must.
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
    const next = size < this.#capacity ? Math.min(Math.max(size * 2, 1), this.#capacity) : size * 2;
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

/** The ends and length of one list of a {@link SlotLists}; -1 = none. */
export interface SlotList {
  head: number;
  tail: number;
  length: number;
}

/**
 * Doubly linked FIFO lists of slots whose links live in two typed arrays: a slot is in at
 * most one list of a `SlotLists` at a time, so appending, removing the head and removing
 * any slot from the middle are all O(1), with no allocation. The allocator keeps each
 * peer's cooling ports in one list (release order is expiry order, as in
 * {@link SlotQueue}), so a peer can take back its own oldest cooling port, and a port whose
 * cooldown ends leaves its peer's list, both in O(1) whatever the number of peers.
 */
export class SlotLists {
  readonly #prev: Int32Array;
  readonly #next: Int32Array;

  constructor(capacity: number) {
    this.#prev = new Int32Array(capacity);
    this.#next = new Int32Array(capacity);
  }

  /** Appends `slot` (in no list of this set) at the tail of `list`. */
  push(list: SlotList, slot: number): void {
    const tail = list.tail;
    this.#prev[slot] = tail;
    this.#next[slot] = -1;
    if (tail === -1) list.head = slot;
    else this.#next[tail] = slot;
    list.tail = slot;
    list.length++;
  }

  /** Unlinks `slot`, which must be in `list`. */
  remove(list: SlotList, slot: number): void {
    const prev = this.#prev[slot] as number;
    const next = this.#next[slot] as number;
    if (prev === -1) list.head = next;
    else this.#next[prev] = next;
    if (next === -1) list.tail = prev;
    else this.#prev[next] = prev;
    list.length--;
  }
}
