import pino from 'pino';

/**
 * The root logger. Logs go to standard error so that the command line's table on standard output
 * stays clean; SCALELAB_LOG_LEVEL sets the level (default "warn").
 */
const root = pino(
  { level: process.env.SCALELAB_LOG_LEVEL ?? 'warn', base: undefined },
  pino.destination({ fd: 2, sync: true }),
);

/** Returns the logger of one subsystem, such as "balancer" or "database". */
export function subsystemLogger(subsystem: string): pino.Logger {
  return root.child({ subsystem });
}
