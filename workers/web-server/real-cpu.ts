/**
 * Real CPU work for the real CPU model: a fixed arithmetic loop whose iterations per millisecond
 * are measured once when the thread starts, so a request burns the same amount of CPU whether
 * or not the thread shares a core with others (then it simply takes longer in wall time).
 */
let sink = 0;
const iterationsPerMs = calibrate();

/** Burns about `ms` milliseconds of this thread's CPU, as measured on an unloaded core at start. */
export function burnCpuMs(ms: number): void {
  if (ms <= 0) return;
  spin(Math.round(ms * iterationsPerMs));
}

export function calibratedIterationsPerMs(): number {
  return iterationsPerMs;
}

function spin(iterations: number): void {
  let x = sink;
  for (let i = 0; i < iterations; i++) x = (x * 1664525 + 1013904223 + i) % 4294967296;
  sink = x;
}

function calibrate(): number {
  spin(200_000); // warm up the JIT before measuring
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const iterations = 200_000;
    const start = performance.now();
    spin(iterations);
    const elapsed = performance.now() - start;
    if (elapsed > 0) best = Math.max(best, iterations / elapsed);
  }
  return best > 0 ? best : 100_000;
}
