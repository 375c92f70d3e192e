/** Runs `work` while sampling this process's memory every 10 ms; the flood readers report the peaks. */
export async function withPeakMemory<T>(work: () => Promise<T>): Promise<{ result: T; peakHeap: number; peakRss: number }> {
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  };
  const timer = setInterval(sample, 10);
  try {
    return { result: await work(), peakHeap, peakRss };
  } finally {
    clearInterval(timer);
    sample();
  }
}
