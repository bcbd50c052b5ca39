// A worker thread exploring one shard of a scenario (piscina task).

import type { KernelOptions } from '../kernel/options.js';
import { loadScenario } from '../scenario/load.js';
import { type ExploreOptions, type ExploreResult, explore } from './explore.js';
import { prepareProgram } from './program.js';

export interface ShardTask {
  readonly file: string;
  readonly text: string;
  readonly kernel: Partial<KernelOptions>;
  readonly explore: Omit<ExploreOptions, 'onProgress' | 'shouldStop'>;
  /** set to 1 by the main thread to stop early (Ctrl-C); the worker then returns what it found */
  readonly stop?: SharedArrayBuffer;
}

export default function exploreShard(t: ShardTask): ExploreResult {
  const p = prepareProgram(loadScenario(t.file, t.text), t.kernel);
  const stop = t.stop ? new Int32Array(t.stop) : null;
  return explore(p, {
    ...t.explore,
    shouldStop: () => (stop && Atomics.load(stop, 0) ? 'interrupted (SIGINT): results so far' : undefined),
  });
}
