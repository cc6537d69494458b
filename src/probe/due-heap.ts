/**
 * When each checker next needs attention (its next attempt, or the deadline of a connect in
 * flight), as an indexed binary min-heap over small integer ids. The scheduler arms one
 * timer for the earliest entry instead of one setTimeout per checker: at thousands of
 * checks a second that is one timer re-armed instead of thousands. Typed arrays, so the heap
 * costs a few bytes per checker and makes no garbage.
 */
export class DueHeap {
  private heap = new Int32Array(256);
  private pos = new Int32Array(256).fill(-1);
  private due = new Float64Array(256);
  private n = 0;

  get size(): number {
    return this.n;
  }

  has(id: number): boolean {
    return id < this.pos.length && this.pos[id]! >= 0;
  }

  /** The earliest due time, Infinity when empty. */
  topDue(): number {
    return this.n === 0 ? Infinity : this.due[this.heap[0]!]!;
  }

  /** Schedule `id` at `at`, or move it there. */
  set(id: number, at: number): void {
    if (id >= this.pos.length) this.grow(id);
    const p = this.pos[id]!;
    this.due[id] = at;
    if (p < 0) {
      if (this.n === this.heap.length) this.growHeap();
      this.heap[this.n] = id;
      this.pos[id] = this.n;
      this.up(this.n++);
    } else {
      this.up(p);
      this.down(this.pos[id]!);
    }
  }

  remove(id: number): void {
    if (!this.has(id)) return;
    const p = this.pos[id]!;
    const last = this.heap[--this.n]!;
    this.pos[id] = -1;
    if (p === this.n) return;
    this.heap[p] = last;
    this.pos[last] = p;
    this.up(p);
    this.down(this.pos[last]);
  }

  /** Remove and return the earliest id if it is due at or before `now`, else -1. */
  popDue(now: number): number {
    if (this.n === 0) return -1;
    const id = this.heap[0]!;
    if (this.due[id]! > now) return -1;
    this.remove(id);
    return id;
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) this.pos[this.heap[i]!] = -1;
    this.n = 0;
  }

  private up(p: number): void {
    const { heap, pos, due } = this;
    const id = heap[p]!;
    const d = due[id]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const pid = heap[parent]!;
      if (due[pid]! <= d) break;
      heap[p] = pid;
      pos[pid] = p;
      p = parent;
    }
    heap[p] = id;
    pos[id] = p;
  }

  private down(p: number): void {
    const { heap, pos, due, n } = this;
    const id = heap[p]!;
    const d = due[id]!;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= n) break;
      if (c + 1 < n && due[heap[c + 1]!]! < due[heap[c]!]!) c++;
      const cid = heap[c]!;
      if (due[cid]! >= d) break;
      heap[p] = cid;
      pos[cid] = p;
      p = c;
    }
    heap[p] = id;
    pos[id] = p;
  }

  /** Room for ids 0 .. n - 1 without growing (sized exactly: growth doubles). */
  reserve(n: number): void {
    if (n > this.pos.length) this.resize(n);
    if (n > this.heap.length) {
      const heap = new Int32Array(n);
      heap.set(this.heap);
      this.heap = heap;
    }
  }

  private grow(id: number): void {
    let size = this.pos.length;
    while (size <= id) size *= 2;
    this.resize(size);
  }

  private resize(size: number): void {
    const pos = new Int32Array(size).fill(-1);
    pos.set(this.pos);
    const due = new Float64Array(size);
    due.set(this.due);
    this.pos = pos;
    this.due = due;
  }

  private growHeap(): void {
    const heap = new Int32Array(this.heap.length * 2);
    heap.set(this.heap);
    this.heap = heap;
  }
}
