// Preloaded into benchmarked gmemsim processes (node --import): writes the process's peak resident set (KiB)
// to the file named by GMEMSIM_BENCH_RSS when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.GMEMSIM_BENCH_RSS;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
