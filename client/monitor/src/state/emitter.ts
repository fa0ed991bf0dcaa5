/** The smallest typed pub/sub: stores and the connection tell views that something changed. */
export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  on(fn: (value: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(value: T): void {
    for (const fn of [...this.listeners]) fn(value);
  }

  clear(): void {
    this.listeners.clear();
  }
}
