// gmemsim serve: the local web visualizer.
import type { Command } from 'commander';

export function registerServe(_program: Command, _color: () => boolean): void {}
