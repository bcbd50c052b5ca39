import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';

describe('the JSON Schema shipped for editors', () => {
  it('is up to date (regenerate with `gmemsim schema > schema/scenario.schema.json`)', () => {
    const shipped = JSON.parse(readFileSync(join(import.meta.dirname, '../../schema/scenario.schema.json'), 'utf8'));
    expect(shipped).toEqual(JSON.parse(JSON.stringify(scenarioJsonSchema())));
  });

  it('describes every op with its arguments', () => {
    const text = JSON.stringify(scenarioJsonSchema());
    for (const op of ['KVM_RUN', 'memory_failure', 'fallocate', 'corrupt_pfn']) expect(text).toContain(`"${op}"`);
    expect(text).toContain('guest_memfd_offset');
  });
});
