// Preloaded into the worker by the many-syncs bench (node --import): the event loop's delay, as
// perf_hooks measures it, written to BENCH_LOOP_FILE once a second. SIGUSR2 starts a new histogram
// (the bench sends it when its measured minutes begin). Not part of credport: nothing here ships.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  process.on('SIGUSR2', () => histogram.reset());
  const write = () =>
    writeFileSync(
      file,
      JSON.stringify({
        p50Ms: histogram.percentile(50) / 1e6,
        p99Ms: histogram.percentile(99) / 1e6,
        maxMs: histogram.max / 1e6,
        samples: histogram.count,
      }),
    );
  setInterval(write, 1000).unref();
}
