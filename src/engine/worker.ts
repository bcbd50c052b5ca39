// Worker threads of a parallel exploration (piscina tasks): one shard of a static split (exploreShard, for
// `--shard`-style runs) or one task of the parallel DPOR search (exploreTask, for `--workers`).

import type { KernelOptions } from '../kernel/options.js';
import { loadScenario } from '../scenario/load.js';
import { type ExploreOptions, type ExploreResult, explore } from './explore.js';
import { type ParallelTask, type ParallelTaskResult, runParallelTask } from './parallel.js';
import { type Program, prepareProgram } from './program.js';

export interface ShardTask {
  readonly file: string;
  readonly text: string;
  readonly kernel: Partial<KernelOptions>;
  readonly explore: Omit<ExploreOptions, 'onProgress' | 'shouldStop' | 'onShared'>;
  /** set to 1 by the main thread to stop early (Ctrl-C); the worker then returns what it found */
  readonly stop?: SharedArrayBuffer;
}

export interface DporTask extends ShardTask {
  readonly task: ParallelTask;
}

// a worker runs many tasks of one program: prepare it (parse, run the setup) once
const programs = new Map<string, Program>();

function programOf(t: ShardTask): Program {
  const key = `${t.file}\u0000${JSON.stringify(t.kernel)}\u0000${t.text}`;
  let p = programs.get(key);
  if (!p) {
    p = prepareProgram(loadScenario(t.file, t.text), t.kernel);
    programs.set(key, p);
  }
  return p;
}

function stopper(t: ShardTask): () => string | undefined {
  const stop = t.stop ? new Int32Array(t.stop) : null;
  return () => (stop && Atomics.load(stop, 0) ? 'interrupted (SIGINT): results so far' : undefined);
}

export default function exploreShard(t: ShardTask): ExploreResult {
  return explore(programOf(t), { ...t.explore, shouldStop: stopper(t) });
}

export function exploreTask(t: DporTask): ParallelTaskResult {
  return runParallelTask(programOf(t), { ...t.explore, shouldStop: stopper(t) }, t.task);
}
