// gmemsim demo: the seed story, narrated. Placeholder until the narrated demo lands.
import type { Command } from 'commander';

export function registerDemo(_program: Command, _color: () => boolean): void {}
