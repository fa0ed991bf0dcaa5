/** A counting semaphore: a plugin's `concurrency` calls at once, the rest wait in order (abortable). */
export class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.used += 1;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.used -= 1;
          this.waiting.shift()?.();
        });
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.used < this.size) grant();
      else this.waiting.push(grant);
    });
  }
}
