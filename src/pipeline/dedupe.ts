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
    if (this.current.has(id) || this.previous.has(id)) return true;
    this.current.add(id);
    if (this.current.size >= this.window) {
      this.previous = this.current;
      this.current = new Set();
    }
    return false;
  }
}
