/**
 * Remembers recently seen event ids in bounded memory: two generations of `window` ids each,
 * so an id is recognised for at least `window` and at most 2×`window` later events.
 */
export class RecentIds {
  private current = new Set<string>();
  private previous = new Set<string>();
  constructor(private readonly window: number) {}

  /** true if the id was seen recently; records it otherwise. */
  seen(id: string): boolean {
    if (this.previous.size > 0 && this.previous.has(id)) return true;
    // add-or-find in one lookup of the large set: the size tells whether the id was there
    const n = this.current.size;
    this.current.add(id);
    if (this.current.size === n) return true;
    if (this.current.size >= this.window) {
      this.previous = this.current;
      this.current = new Set();
    }
    return false;
  }
}
