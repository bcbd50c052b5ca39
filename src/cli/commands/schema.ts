// gmemsim schema: print the scenario JSON Schema (for editors; shipped as schema/scenario.schema.json).
import type { Command } from 'commander';
import { scenarioJsonSchema } from '../../scenario/schema.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the scenario format')
    .action(() => {
      process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    });
}
