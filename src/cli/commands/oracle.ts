// gmemsim oracle / diff / conformance: run scenarios on real Linux kernels and compare with the model.
import type { Command } from 'commander';

export function registerOracle(_program: Command, _color: () => boolean): void {}
