// gmemsim demo: the seed story told end to end, with the kernel's own trace of each step.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import pc from 'picocolors';
import { explore } from '../../engine/explore.js';
import { prepareProgram } from '../../engine/program.js';
import type { KernelOptions } from '../../kernel/options.js';
import { loadScenario } from '../../scenario/load.js';
import { runScenario } from '../../scenario/run.js';
import { formatLine } from '../../trace/ftrace.js';
import type { TraceEvent } from '../../trace/tracer.js';
import { EXIT_FAIL, EXIT_OK } from '../io.js';
import { type KernelOptionFlags, kernelOptionFlags, parseKernelOptions } from '../options.js';
import { describeResult, formatMismatch } from '../render.js';
import { renderExplore } from './explore.js';

export const SEED_STORY = fileURLToPath(new URL('../../../scenarios/seed-story.yaml', import.meta.url));
const RACE = fileURLToPath(new URL('../../../scenarios/fault-vs-mf.yaml', import.meta.url));

interface Chapter {
  readonly title: string;
  readonly text: string;
  /** step indices of the seed story */
  readonly steps: readonly number[];
}

const CHAPTERS: readonly Chapter[] = [
  {
    title: '1. A confidential VM writes to its private memory',
    text:
      'A KVM_X86_SW_PROTECTED_VM gets a 4 MiB guest_memfd bound to a memslot at 4 GiB, all of it private. ' +
      'The guest writes two pages; each first access faults, and KVM maps the guest_memfd folio into the TDP tables.',
    steps: [0, 1, 2, 3, 4, 5, 6],
  },
  {
    title: '2. A memory error hits one private page',
    text:
      "memory_failure() runs for the frame behind offset 0x5000. guest_memfd's error handler, kvm_gmem_error_folio(), " +
      'takes the invalidate lock shared, zaps every SPTE that maps the folio between invalidate begin and end, does ' +
      'not truncate, and returns MF_DELAYED. Nobody is signalled: private memory has no host mapping. (Mainline mm ' +
      'still reads MF_DELAYED as a failure, so memory_failure() itself returns -EBUSY; see --mm mf-delayed-fix.)',
    steps: [7],
  },
  {
    title: '3. The rest of guest memory is untouched',
    text: 'The neighbouring page keeps its data; its SPTE was never zapped.',
    steps: [8],
  },
  {
    title: '4. The next access to the poisoned page exits to userspace',
    text:
      'The zapped SPTE makes the guest fault; kvm_gmem_get_pfn() sees PG_hwpoison and returns -EHWPOISON, so KVM_RUN ' +
      "fails with EHWPOISON and KVM_EXIT_MEMORY_FAULT naming the private gpa. What happens next is the VMM's decision.",
    steps: [9],
  },
  {
    title: '5. The VMM punches the page out; the guest reads a fresh zeroed page',
    text:
      "fallocate(PUNCH_HOLE) truncates the poisoned folio out of the file (memory failure's reference keeps the bad " +
      'frame out of the allocator). The next guest fault allocates a new folio, zeroed.',
    steps: [10, 11],
  },
];

/** Kernel events worth showing in the narration: tracepoints and log lines, not lock traffic or syscall entry. */
function interesting(e: TraceEvent): boolean {
  if (e.system === 'gmemsim') return e.name.startsWith('gmem_invalidate') || e.name === 'machine_check';
  return e.system !== 'syscalls';
}

export function registerDemo(program: Command, color: () => boolean): void {
  kernelOptionFlags(
    program
      .command('demo')
      .description('tell the seed story: a memory error in private guest_memfd memory, end to end')
      .option('--no-trace', 'leave out the kernel trace under each step')
      .option('--no-explore', 'leave out the exploration of the race at the end'),
  ).action((opts: KernelOptionFlags & { trace: boolean; explore: boolean }) => {
    const c = pc.createColors(color());
    const scenario = loadScenario('scenarios/seed-story.yaml', readFileSync(SEED_STORY, 'utf8'));
    const o = runScenario(scenario, { options: parseKernelOptions(opts), trace: true });
    const out: string[] = [
      c.bold('gmemsim demo: memory failure in private guest_memfd memory'),
      c.dim(`model: mm ${o.options.mm}, error handler ${o.options.error_handler}, Linux ${o.options.kernel} uAPI`),
      '',
    ];
    const tasks = new Map([[1000, { comm: 'vmm', cpu: 0 }]]);
    for (const ch of CHAPTERS) {
      out.push(c.bold(c.cyan(ch.title)), wrap(ch.text, 100), '');
      for (const i of ch.steps) {
        const r = o.results[i];
        if (!r) continue;
        out.push(`  ${c.bold(r.op)}  ${describeResult(r)}`);
        if (opts.trace) {
          for (const e of stepEvents(o.trace.events, i))
            if (interesting(e)) out.push(c.dim(`    ${formatLine(e, tasks.get(e.tid)).trim()}`));
        }
      }
      out.push('');
    }
    if (o.mismatches.length) {
      out.push(c.red('The model did not tell the story as expected:'), ...o.mismatches.map(formatMismatch));
    } else {
      out.push(c.green('Every step behaved as the seed discussion says it should.'));
    }
    process.stdout.write(`${out.join('\n')}\n`);
    let failed = o.mismatches.length > 0;
    if (opts.explore) failed = !exploreTheRace(parseKernelOptions(opts), color()) || failed;
    process.exitCode = failed ? EXIT_FAIL : EXIT_OK;
  });
}

/**
 * The story ran one schedule. The last chapter explores every interleaving of its race (a vCPU faulting on the
 * page while the error is handled) with the chosen handler, then with the 2023 RFC's for contrast. True when the
 * chosen handler holds every property.
 */
function exploreTheRace(options: Partial<KernelOptions>, color: boolean): boolean {
  const c = pc.createColors(color);
  const p = prepareProgram(loadScenario('scenarios/fault-vs-mf.yaml', readFileSync(RACE, 'utf8')), options);
  const r = explore(p);
  const out = [
    '',
    c.bold(c.cyan('6. Every interleaving of that race')),
    wrap(
      `The story above is one schedule. The explorer runs the guest's fault and memory_failure() concurrently and ` +
        `covers every interleaving that matters (dynamic partial-order reduction), checking every property in ` +
        `every state (gmemsim explore scenarios/fault-vs-mf.yaml).`,
      100,
    ),
    '',
    renderExplore(p, r, color),
  ];
  if (p.options.error_handler !== 'rfc-2023') {
    const rfc = prepareProgram(p.scenario, { ...options, error_handler: 'rfc-2023' });
    out.push(
      '',
      wrap(
        'For contrast, the 2023 RFC handler on the same race (gmemsim explore scenarios/fault-vs-mf.yaml ' +
          '--error-handler rfc-2023): it skips the zap, and the explorer prints the shortest schedule that shows it.',
        100,
      ),
      '',
      renderExplore(rfc, explore(rfc), color),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return r.complete && r.violations.length === 0;
}

function stepEvents(events: readonly TraceEvent[], step: number): TraceEvent[] {
  const begin = events.findIndex((e) => e.name === 'step_begin' && e.args?.step === step);
  const end = events.findIndex((e, j) => j > begin && e.name === 'step_end');
  return begin < 0 ? [] : events.slice(begin + 1, end < 0 ? undefined : end);
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
