import { Worker } from 'node:worker_threads'
import type { CryptoBackend } from './backend.js'
import { defaultBackend } from './default-backend.js'
import { CryptoError } from './errors.js'
import { checkStamp, type StampSubject, stampPrefix, stampWork } from './stamp.js'

/**
 * The search loop of mintStamp (bridge/crypto/stamp.ts), in plain JavaScript
 * for a worker thread: nonces counted up from `start`, SHA-256 of prefix ‖
 * nonce, the first whose leading 8 bytes times `work` stay under 2^64. The
 * test checks it finds the very nonce mintStamp finds from the same start.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const LIMIT = 1n << 64n
parentPort.on('message', ({ id, prefix, work, start }) => {
  const nonce = Buffer.alloc(8)
  for (let counter = BigInt.asUintN(64, start); ; counter = BigInt.asUintN(64, counter + 1n)) {
    nonce.writeBigUInt64BE(counter)
    const hash = createHash('sha256').update(prefix).update(nonce).digest()
    if (hash.readBigUInt64BE(0) * work < LIMIT) {
      parentPort.postMessage({ id, nonce: new Uint8Array(nonce) })
      return
    }
  }
})
`

interface Job {
  id: number
  prefix: Uint8Array
  work: bigint
  start: bigint
  resolve(nonce: Uint8Array): void
  reject(error: Error): void
}

interface Slot {
  worker: Worker
  job: Job | undefined
}

export interface StampPoolOptions {
  /** Worker threads, at most (started on first use). */
  workers: number
  backend?: CryptoBackend
}

/**
 * Mints mailbox stamps on worker threads, so the ~0.4 s of hashing a stamp
 * costs at the default difficulty never blocks the bridge's event loop.
 * Jobs wait in order for a free worker; every nonce is checked on the way
 * back (two hashes) before it is handed out.
 */
export class StampPool {
  readonly #options: StampPoolOptions
  readonly #backend: CryptoBackend
  readonly #slots: Slot[] = []
  readonly #queue: Job[] = []
  #nextId = 0
  #stopped = false

  constructor(options: StampPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new CryptoError('workers must be a positive integer')
    this.#options = options
    this.#backend = options.backend ?? defaultBackend
  }

  /** A stamp for `subject` at `difficulty`: mintStamp's from the same `start` (default random). */
  mint(subject: StampSubject, difficulty: number, start = this.#randomStart()): Promise<Uint8Array> {
    if (this.#stopped)
      return Promise.reject(new CryptoError('the stamp pool is stopped', 'STAMP_POOL_STOPPED'))
    const work = stampWork(subject.item.length, difficulty)
    const prefix = stampPrefix(subject, this.#backend)
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, prefix, work, start, resolve, reject })
      this.#dispatch()
    }).then((nonce) => {
      if (!checkStamp(subject, nonce, difficulty, this.#backend))
        throw new CryptoError('a stamp worker returned a nonce that is no stamp', 'STAMP_INVALID')
      return nonce
    })
  }

  /** Ends the workers; jobs not finished are rejected. */
  async stop(): Promise<void> {
    this.#stopped = true
    const error = new CryptoError('the stamp pool is stopped', 'STAMP_POOL_STOPPED')
    for (const job of this.#queue.splice(0)) job.reject(error)
    const slots = this.#slots.splice(0)
    for (const slot of slots) slot.job?.reject(error)
    await Promise.all(slots.map((slot) => slot.worker.terminate()))
  }

  #randomStart(): bigint {
    return new DataView(this.#backend.randomBytes(8).buffer).getBigUint64(0)
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#idleSlot()
      if (!slot) return
      const job = this.#queue.shift()!
      slot.job = job
      slot.worker.ref()
      slot.worker.postMessage({ id: job.id, prefix: job.prefix, work: job.work, start: job.start })
    }
  }

  #idleSlot(): Slot | undefined {
    const idle = this.#slots.find((slot) => slot.job === undefined)
    if (idle || this.#slots.length >= this.#options.workers) return idle
    const slot: Slot = { worker: this.#spawn(), job: undefined }
    this.#slots.push(slot)
    return slot
  }

  #spawn(): Worker {
    // No loader flags (tsx) in the worker: its code is plain JavaScript.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] })
    worker.unref()
    worker.on('message', (answer: { id: number; nonce: Uint8Array }) => {
      const slot = this.#slots.find((s) => s.worker === worker)
      if (!slot?.job || slot.job.id !== answer.id) return
      const job = slot.job
      slot.job = undefined
      worker.unref()
      job.resolve(answer.nonce)
      this.#dispatch()
    })
    worker.on('error', (error) => this.#lost(worker, error))
    worker.on('exit', (code) => this.#lost(worker, new Error(`stamp worker exited with code ${code}`)))
    return worker
  }

  /** A worker died: its job fails, the slot is freed (the next job starts a new worker). */
  #lost(worker: Worker, cause: Error): void {
    const at = this.#slots.findIndex((s) => s.worker === worker)
    if (at < 0) return
    const [slot] = this.#slots.splice(at, 1)
    slot!.job?.reject(new CryptoError(`a stamp worker failed: ${cause.message}`, 'STAMP_WORKER', { cause }))
    if (!this.#stopped) this.#dispatch()
  }
}
