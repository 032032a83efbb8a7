// An append-only list whose oldest entries are dropped from the front in O(1): the store evicts
// spans in arrival order, and each index list holds its spans in that same order.
export class SpanList<T> {
  #items: T[] = [];
  #start = 0;

  get length(): number {
    return this.#items.length - this.#start;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes `item` if it is the oldest entry (the usual case), else wherever it is. */
  remove(item: T): void {
    if (this.#items[this.#start] === item) {
      this.#start += 1;
      if (this.#start > 1024 && this.#start * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#start);
        this.#start = 0;
      }
      return;
    }
    const index = this.#items.indexOf(item, this.#start);
    if (index >= 0) this.#items.splice(index, 1);
  }

  toArray(): T[] {
    return this.#items.slice(this.#start);
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#start; i < this.#items.length; i++) yield this.#items[i]!;
  }
}
