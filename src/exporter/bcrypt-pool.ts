// bcrypt comparisons off the event loop: a few worker threads and a bounded
// queue. bcrypt costs tens of milliseconds of CPU by design, so run on the
// event loop a handful of clients sending wrong passwords stall every scrape;
// in workers they only take their own (small) share, and once the queue is
// full the answer is "busy" (the server's 503) instead of an ever longer wait.

import { createRequire } from 'node:module';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { loadWorkerThreads } from '../util/lazy-builtins.js';

/** Below the cores, so the event loop keeps one: 1 on a 2-core host, at most 2. */
export const DEFAULT_BCRYPT_WORKERS = Math.max(1, Math.min(2, os.availableParallelism() - 1));
/** Comparisons waiting for a worker; one more is refused. */
export const DEFAULT_BCRYPT_QUEUE = 16;

// An eval'd CommonJS worker, given the resolved path of bcryptjs, runs the
// same from src/ (vitest) and from dist/ (no separate worker file to ship).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', (job) => {
  let ok = false;
  try { ok = bcrypt.compareSync(job.password, job.hash); } catch { ok = false; }
  parentPort.postMessage(ok);
});
`;

interface Job {
  password: string;
  hash: string;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class BcryptPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
  private closed = false;

  constructor(
    readonly workers = DEFAULT_BCRYPT_WORKERS,
    readonly maxQueued = DEFAULT_BCRYPT_QUEUE,
  ) {}

  /** Whether password matches hash; 'busy' when every worker is taken and the queue is full. */
  compare(password: string, hash: string): Promise<boolean | 'busy'> {
    if (this.closed) return Promise.resolve('busy');
    const idle = this.idleSlot();
    if (!idle && this.queue.length >= this.maxQueued) return Promise.resolve('busy');
    return new Promise<boolean>((resolve, reject) => {
      const job: Job = { password, hash, resolve, reject };
      if (idle) this.run(idle, job);
      else this.queue.push(job);
    });
  }

  close(): void {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve(false);
    for (const slot of this.slots.splice(0)) {
      slot.job?.resolve(false);
      void slot.worker.terminate();
    }
  }

  private idleSlot(): Slot | null {
    const idle = this.slots.find((s) => s.job === null);
    if (idle) return idle;
    if (this.slots.length >= this.workers) return null;
    const slot = this.spawn();
    this.slots.push(slot);
    return slot;
  }

  private spawn(): Slot {
    const { Worker } = loadWorkerThreads();
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath: this.bcryptPath } });
    // Idle workers must not keep `tstop export` (or a test) alive.
    worker.unref();
    const slot: Slot = { worker, job: null };
    worker.on('message', (ok: boolean) => {
      const job = slot.job;
      slot.job = null;
      job?.resolve(ok === true);
      this.next(slot);
    });
    worker.on('error', (err) => this.replace(slot, err));
    worker.on('exit', () => this.replace(slot, new Error('bcrypt worker exited')));
    return slot;
  }

  /** A dead worker fails its job and makes room for a new one. */
  private replace(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.job?.reject(err);
    slot.job = null;
    const waiting = this.queue.shift();
    if (waiting && !this.closed) this.run(this.idleSlot()!, waiting);
  }

  private next(slot: Slot): void {
    const job = this.queue.shift();
    if (job) this.run(slot, job);
  }

  private run(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.postMessage({ password: job.password, hash: job.hash });
  }
}
