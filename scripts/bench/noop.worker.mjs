// A task that does nothing, to measure piscina's own round-trip cost.
export default function noop() {
  return 0;
}
