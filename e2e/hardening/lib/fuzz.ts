/**
 * Seeded, reproducible fuzzing settings shared by the property tests.
 *
 * - `FTPKIT_FUZZ_SEED`: the base seed (an integer). Unset: a fresh one, printed once per file.
 *   Every property derives its own seed from the base seed and its name, so one base seed
 *   replays the whole suite.
 * - `FTPKIT_FUZZ_RUNS`: inputs per property at weight 1 (default 10 000). Properties that are
 *   more expensive per input (every split point, whole sessions) run a fraction of it.
 * - `FTPKIT_FUZZ_PATH`: fast-check's replay path printed with a counterexample (use it with
 *   the same seed and `-t '<property name>'`).
 */
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

export const FUZZ_SEED: number = envInt('FTPKIT_FUZZ_SEED') ?? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
export const FUZZ_RUNS: number = envInt('FTPKIT_FUZZ_RUNS') ?? 10_000;
const FUZZ_PATH = process.env.FTPKIT_FUZZ_PATH;

/** FNV-1a of the property name, mixed into the base seed. */
function seedFor(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (FUZZ_SEED ^ h) | 0;
}

const counts = new Map<string, number>();
let announced = false;

/** Prints the seed (once per file) and, after the file, how many inputs each property ran. */
export function announce(file: string): void {
  if (announced) return;
  announced = true;
  console.log(`[fuzz] ${file}: FTPKIT_FUZZ_SEED=${FUZZ_SEED} FTPKIT_FUZZ_RUNS=${FUZZ_RUNS} (replay: FTPKIT_FUZZ_SEED=${FUZZ_SEED} npm run test:hardening)`);
  afterAll(() => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`[fuzz] ${file}: ${total} inputs over ${counts.size} properties, seed ${FUZZ_SEED}`);
  });
}

function replayError(name: string, seed: number, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const testName = (expect.getState().currentTestName ?? name).split(' > ').at(-1) ?? name;
  return new Error(
    `${name}: FTPKIT_FUZZ_SEED=${FUZZ_SEED} (property seed ${seed}). Replay: FTPKIT_FUZZ_SEED=${FUZZ_SEED} FTPKIT_FUZZ_PATH=<path below> npx vitest run --config e2e/hardening/vitest.config.ts -t ${JSON.stringify(testName)}\n${msg}`,
    { cause: err },
  );
}

function parameters(name: string, weight: number): fc.Parameters<unknown> {
  const numRuns = Math.max(1, Math.round(FUZZ_RUNS * weight));
  return { seed: seedFor(name), numRuns, ...(FUZZ_PATH === undefined ? {} : { path: FUZZ_PATH, endOnFailure: true }) };
}

/**
 * Runs a fast-check property with the suite's seed and a run count of
 * `FUZZ_RUNS * weight`; the seed and the replay path are in the failure message.
 */
export function check<Ts extends [unknown, ...unknown[]]>(name: string, weight: number, arbs: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, predicate: (...args: Ts) => void): void {
  const params = parameters(name, weight);
  let ran = 0;
  const prop = fc.property(...(arbs as unknown as [fc.Arbitrary<unknown>]), ((...args: Ts) => {
    ran++;
    predicate(...args);
  }) as unknown as (...a: unknown[]) => void);
  try {
    fc.assert(prop, params);
  } catch (err) {
    throw replayError(name, params.seed as number, err);
  } finally {
    counts.set(name, (counts.get(name) ?? 0) + ran);
  }
}

/** {@link check} for an async predicate (socket-level fuzzing). */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(name: string, weight: number, arbs: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, predicate: (...args: Ts) => Promise<void>): Promise<void> {
  const params = parameters(name, weight);
  let ran = 0;
  const prop = fc.asyncProperty(...(arbs as unknown as [fc.Arbitrary<unknown>]), (async (...args: Ts) => {
    ran++;
    await predicate(...args);
  }) as unknown as (...a: unknown[]) => Promise<void>);
  try {
    await fc.assert(prop, params);
  } catch (err) {
    throw replayError(name, params.seed as number, err);
  } finally {
    counts.set(name, (counts.get(name) ?? 0) + ran);
  }
}

/** No lone UTF-16 surrogate (String.prototype.isWellFormed, which ES2022 typings lack). */
export const wellFormed = (s: string): boolean => !/[\uD800-\uDFFF]/u.test(s);
