/**
 * Password checks off the event loop. SHA-crypt runs thousands of hash rounds: done on
 * the main thread, a handful of parallel password guessers would stall every session.
 * A small pool of worker threads runs @ftpkit/config/node's `verifyPassword` instead.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { verifyPassword } from '@ftpkit/config/node';

interface Pending {
  resolve: (ok: boolean) => void;
  hash: string;
  password: string;
}

export class PasswordPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private broken = false;

  /**
   * One worker per core by default (at most 4): a check takes about 2 ms of CPU
   * (SHA-512-crypt, 5 000 rounds, in WebAssembly), so on two cores a second login need not
   * wait for the first while the other core is free.
   */
  constructor(private readonly size: number = Math.max(1, Math.min(4, availableParallelism()))) {}

  /**
   * Starts every worker now rather than at the first logins (a worker boots in 50-500 ms,
   * depending on the machine's load, and the first PASS of a busy start would wait for it).
   */
  warm(): void {
    while (!this.broken && this.workers.length < this.size) if (this.start() === undefined) return;
  }

  /** Resolves true only for the right password; never rejects. */
  verify(hash: string, password: string): Promise<boolean> {
    const slot = this.pick();
    if (slot === undefined) return verifyPassword(hash, password);
    const id = this.nextId++;
    // A worker keeps the process alive only while it has a check to finish.
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise((resolve) => {
      this.pending.set(id, {
        hash,
        password,
        resolve: (ok) => {
          if (--slot.busy === 0) slot.worker.unref();
          resolve(ok);
        },
      });
      slot.worker.postMessage({ id, hash, password });
    });
  }

  private pick(): { worker: Worker; busy: number } | undefined {
    if (this.broken) return undefined;
    if (this.workers.length < this.size && this.workers.every((w) => w.busy > 0)) this.start();
    return this.workers.reduce<{ worker: Worker; busy: number } | undefined>((best, w) => (best === undefined || w.busy < best.busy ? w : best), undefined);
  }

  private start(): { worker: Worker; busy: number } | undefined {
    try {
      const worker = new Worker(new URL('./password-worker.js', import.meta.url));
      worker.on('message', (m: { id: number; ok: boolean }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m.ok);
      });
      worker.on('error', () => this.fail());
      // After the listeners: adding a 'message' listener refs the worker again.
      worker.unref();
      const slot = { worker, busy: 0 };
      this.workers.push(slot);
      return slot;
    } catch {
      this.fail();
      return undefined;
    }
  }

  /** A worker died: finish what it had on the main thread and stop using workers. */
  private fail(): void {
    this.broken = true;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      void verifyPassword(p.hash, p.password).then(p.resolve);
    }
    void this.close();
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
