/**
 * How often the engine runs the sidecar's healthcheck (templates/egress/drydock-egress-healthcheck).
 * Engine 20.10 has no start_interval: the first check runs one interval after the container
 * starts, so the interval is short (100 ms) to start the agent fast. That is affordable because
 * the script does the waiting itself: the first run waits (up to 1 s) for tinyproxy to listen; every later run
 * watches quietly for 4 s (reading /proc/net/tcp) before it returns, so a healthy sidecar costs
 * one exec about every 4 s, not ten a second, and writes no proxy log line except once a minute.
 *   timeout 10 s      above the longest run (4 s of watching plus a 2 s request)
 *   retries 3         a saturated or vanished proxy is unhealthy within a few seconds
 *   start_period 15s  failures while tinyproxy starts do not count; after it, a sidecar that never
 *                     listens is given up on (compose fails the `up`, no agent) a few seconds later (about 21 s in all, measured)
 */
export const SIDECAR_HEALTHCHECK_TIMING = {
  interval: '100ms',
  timeout: '10s',
  retries: 3,
  start_period: '15s',
} as const;
