import { describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/ops/result.js';
import { normaliseLogLine, normaliseRun, Symbols } from '../../src/oracle/normalise.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { scenario } from './helpers.js';

const s = scenario(`
steps:
  - {op: mmap, fd: -1, length: 0x4000, prot: PROT_READ, flags: [MAP_PRIVATE, MAP_ANONYMOUS], as: mem}
  - {op: pagemap, addr: mem, as: p1}
  - {op: corrupt_pfn, pfn: p1}
  - {op: load, addr: mem+0x1008}
  - {op: pagemap, addr: mem+0x1000}
  - {op: fstat, fd: 3}
  - {op: fstat, fd: 4}
`);
const steps = compileScenario(s).steps;

function run(base: number, pfn: number, other: number, inoA: number, inoB: number): StepResult[] {
  const h = (v: number) => v.toString(16);
  return [
    { step: 0, op: 'mmap', ret: base, errno: null },
    { step: 1, op: 'pagemap', ret: pfn, errno: null },
    {
      step: 2,
      op: 'corrupt_pfn',
      ret: `0x${h(pfn)}\n`.length,
      errno: null,
      dmesg: [
        `Injecting memory failure at pfn 0x${h(pfn)}`,
        `Memory failure: 0x${h(pfn)}: Sending SIGBUS to vmm:${base % 97} due to x`,
      ],
    },
    {
      step: 3,
      op: 'load',
      ret: -1,
      errno: null,
      signal: { signo: 'SIGBUS', code: 'BUS_MCEERR_AR', addr: base + 0x1008, addr_lsb: 12 },
      dmesg: [`MCE: Killing vmm:1000 due to hardware memory corruption fault at ${h(base + 0x1008)}`],
    },
    { step: 4, op: 'pagemap', ret: other, errno: null },
    {
      step: 5,
      op: 'fstat',
      ret: 0,
      errno: null,
      stat: { st_size: 0, st_blksize: 4096, st_ino: inoA, st_mode: 0o100600 },
    },
    {
      step: 6,
      op: 'fstat',
      ret: 0,
      errno: null,
      stat: { st_size: 0, st_blksize: 4096, st_ino: inoB, st_mode: 0o100600 },
    },
  ];
}

describe('normalisation', () => {
  const model = normaliseRun(steps, run(0x7effffffc000, 0x100000, 0x100001, 7, 8));
  const kernel = normaliseRun(steps, run(0x7dffffffc000, 0x27c6, 0x3000, 2367, 2368));

  it('names addresses and pfns after the labels the scenario gave them', () => {
    expect(model[0].ret).toBe('<mem>');
    expect(model[1].ret).toBe('<pfn:p1>');
    expect(model[3].signal).toEqual({ signo: 'SIGBUS', code: 'BUS_MCEERR_AR', addr: '<mem+0x1008>', addr_lsb: 12 });
    expect(model[3].dmesg).toEqual(['MCE: Killing vmm:<pid> due to hardware memory corruption fault at <mem+0x1008>']);
  });

  it('rewrites both sides the same way, so equal structure compares equal', () => {
    expect(kernel).toEqual(model);
  });

  it('keeps inequality: distinct inodes and unlabelled pfns get distinct ordinals', () => {
    expect(model[5].stat).toMatchObject({ st_ino: '<ino#1>' });
    expect(model[6].stat).toMatchObject({ st_ino: '<ino#2>' });
    expect(model[4].ret).toBe('<pfn#1>');
  });

  it('turns the length of a debugfs write of the pfn into a symbol, and nothing else', () => {
    expect(model[2].ret).toBe('<strlen("0x<pfn>\\n")>');
    const odd = normaliseRun(steps.slice(0, 3), [
      ...run(0x7e0000000000, 0x1234, 0, 1, 2).slice(0, 2),
      { step: 2, op: 'corrupt_pfn', ret: 99, errno: null },
    ]);
    expect(odd[2].ret).toBe(99);
  });

  it('compares only the names of a %pGp page-flags dump', () => {
    const line =
      'Soft offline: 0x385e: page migration failed 1, type 0xfffffc004001c(referenced|uptodate|dirty|unevictable|node=0|zone=1|lastcpupid=0x1fffff)';
    expect(normaliseLogLine(line, new Symbols())).toBe(
      'Soft offline: <pfn#1>: page migration failed 1, type <pageflags>(referenced|uptodate|dirty|unevictable)',
    );
  });
});
