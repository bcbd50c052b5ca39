#!/usr/bin/env node
// The gmemsim command line.
import { Command, CommanderError } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerExplore } from './commands/explore.js';
import { registerOracle } from './commands/oracle.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerServe } from './commands/serve.js';
import { registerVariants } from './commands/variants.js';
import { EXIT_USAGE, reportError } from './io.js';

const color = () => process.stdout.isTTY === true && !process.env.NO_COLOR;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('gmemsim')
    .description('An executable model of KVM guest_memfd and memory-failure handling')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerRun(program, color);
  registerDemo(program, color);
  registerExplore(program, color);
  registerVariants(program, color);
  registerSchema(program);
  registerOracle(program, color);
  registerServe(program, color);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(e, color());
  }
}
