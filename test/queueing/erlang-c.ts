/**
 * Mean response time of an M/M/c queue (Poisson arrivals at `arrivalRps`, exponential service
 * with mean `serviceMs`, `c` servers, first come first served), in milliseconds:
 * W = Wq + 1/mu, where Wq = C(c, a) / (c mu - lambda) and C(c, a) is the Erlang C formula,
 * the probability that an arrival has to wait, with offered load a = lambda / mu:
 *   C(c, a) = (a^c / c!) / (1 - rho) / (sum_{k<c} a^k / k! + (a^c / c!) / (1 - rho)),  rho = a / c.
 * Throws a RangeError when rho >= 1, where the queue has no steady state.
 */
export function erlangCResponseMs(c: number, arrivalRps: number, serviceMs: number): number {
  const mu = 1000 / serviceMs;
  const a = arrivalRps / mu;
  const rho = a / c;
  if (!(rho < 1)) throw new RangeError(`utilization: expected below 1 for a steady state, received ${rho}`);
  let term = 1;
  let sum = 0;
  for (let k = 0; k < c; k++) {
    if (k > 0) term *= a / k;
    sum += term;
  }
  const waiting = (term * a) / c / (1 - rho);
  const probabilityOfWait = waiting / (sum + waiting);
  const waitSeconds = probabilityOfWait / (c * mu - arrivalRps);
  return (waitSeconds + 1 / mu) * 1000;
}
