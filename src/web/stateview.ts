/// <reference lib="dom" />
// The kernel state at the selected event: the event itself and its step's result, each guest_memfd file as a
// grid of pages, each VM's memslots, bindings, SPTEs, invalidation counters and attributes, the locks held, and
// memory-failure bookkeeping. What changed since the previous event is outlined, so stepping shows cause and
// effect.
import type { StepResult } from '../ops/result.js';
import type { StepSpan } from '../trace/slices.js';
import type { FileState, KernelState, PageState, VmState } from '../trace/state.js';
import type { TraceEvent } from '../trace/tracer.js';
import { type Child, fill, h } from './dom.js';
import { attributes, bytes, count, hex, vmType } from './format.js';

export interface StateContext {
  readonly event: TraceEvent | undefined;
  readonly eventCount: number;
  readonly threadName: (tid: number) => string;
  readonly step: StepSpan | undefined;
  readonly result: StepResult | undefined;
  readonly mismatches: ReadonlyArray<{ field: string; expected: unknown; actual: unknown }>;
  readonly state: KernelState;
  /** the state before this event, to outline what the event changed */
  readonly prev: KernelState | undefined;
}

const PAGE = 4096;
/** Beyond this many pages one cell stands for several (the worst state among them wins). */
const MAX_CELLS = 2048;
const MAX_ROWS = 200;
/** Up to this many allocated pages get a card each; more go into a table. */
const MAX_CARDS = 24;

function pageCard(p: PageState, changed: boolean): HTMLElement {
  const kind = kindOf(p);
  return h(
    'div',
    { class: `pcard ${kind}${changed ? ' changed' : ''}`, role: 'listitem', 'data-index': String(p.index) },
    h(
      'div',
      { class: 'pcard-title' },
      `index ${p.index} · offset ${hex(p.index * PAGE)}`,
      kind === 'poisoned' ? ' · POISONED' : kind === 'corrupt' ? ' · corrupt (unreported)' : '',
    ),
    h('div', { class: 'kv' }, `pfn ${hex(p.pfn)} · refcount ${p.refcount}`),
    h('div', null, ...p.flags.map((fl) => h('span', { class: `flag fl-${fl}` }, fl))),
    h(
      'div',
      { class: 'maps' },
      p.sptes.length
        ? h('span', { class: 'map-spte' }, `SPTE: ${p.sptes.map(spteName).join(', ')}`)
        : h('span', { class: 'map-none' }, 'no SPTE'),
      ' · ',
      p.hostMapped.length
        ? h('span', { class: 'map-host' }, `host: ${p.hostMapped.map(hex).join(', ')}`)
        : h('span', { class: 'map-none' }, 'no host mapping'),
    ),
  );
}

type PageKind = 'absent' | 'present' | 'poisoned' | 'corrupt';

function kindOf(p: PageState | undefined): PageKind {
  if (!p) return 'absent';
  if (p.flags.includes('hwpoison')) return 'poisoned';
  if (p.corrupt) return 'corrupt';
  return 'present';
}

const KIND_RANK: Readonly<Record<PageKind, number>> = { absent: 0, present: 1, corrupt: 2, poisoned: 3 };

const KIND_TEXT: Readonly<Record<PageKind, string>> = {
  absent: 'not allocated',
  present: 'allocated',
  poisoned: 'poisoned (PG_hwpoison)',
  corrupt: 'corrupt, not yet reported',
};

function sig(p: PageState | undefined): string {
  return p ? `${p.pfn}|${p.flags.join(',')}|${p.corrupt}|${p.hostMapped.join(',')}|${p.sptes.join(',')}` : '';
}

function spteName(s: string): string {
  const [vm, gfn] = s.split(':');
  return `VM ${vm} gfn 0x${gfn}`;
}

function section(title: Child, ...body: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h3', null, title), ...body);
}

function table(
  caption: string,
  head: readonly string[],
  rows: Array<{ cells: Child[]; cls?: string; attrs?: Record<string, string> }>,
  more = 0,
): HTMLElement {
  return h(
    'table',
    { class: 'kv-table' },
    h('caption', { class: 'sr-only' }, caption),
    h('thead', null, h('tr', null, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      null,
      ...rows.map((r) => h('tr', { class: r.cls, ...(r.attrs ?? {}) }, ...r.cells.map((c) => h('td', null, c)))),
      more > 0 ? h('tr', null, h('td', { colspan: String(head.length), class: 'muted' }, `… and ${more} more`)) : null,
    ),
  );
}

function formatValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 4096 ? hex(v) : String(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function describeResult(r: StepResult): string {
  const parts = [`ret ${formatValue(r.ret)}`];
  if (r.errno) parts.push(r.errno);
  if (r.exit_reason) parts.push(r.exit_reason);
  if (r.memory_fault)
    parts.push(
      `memory_fault gpa ${hex(r.memory_fault.gpa)} size ${r.memory_fault.size} [${r.memory_fault.flags.join('|')}]`,
    );
  if (r.signal) parts.push(`${r.signal.signo} ${r.signal.code} addr ${hex(r.signal.addr)}`);
  if (r.values?.length) parts.push(`values [${r.values.map((v) => formatValue(v)).join(', ')}]`);
  if (r.value !== undefined) parts.push(`value ${formatValue(r.value)}`);
  if (r.panic) parts.push(`panic: ${r.panic}`);
  if (r.livelock) parts.push(`livelock: ${r.livelock}`);
  return parts.join(' · ');
}

function eventCard(c: StateContext): HTMLElement {
  const e = c.event;
  if (!e) {
    return h(
      'section',
      { class: 'card event-card', id: 'event-card' },
      h('h3', null, 'Start'),
      h('p', null, `The kernel state before the first of ${count(c.eventCount, 'event')}. Step forward with → or j.`),
    );
  }
  // step_begin/step_end repeat their args in their text
  const args =
    e.name === 'step_begin' || e.name === 'step_end'
      ? []
      : Object.entries(e.args ?? {}).filter(([k]) => k !== 'thread');
  return h(
    'section',
    { class: 'card event-card', id: 'event-card', 'data-seq': String(e.seq) },
    h(
      'h3',
      null,
      h('span', { class: 'seq' }, `#${e.seq}`),
      ' ',
      h('span', { class: `ev-sys ev-sys-${e.system.replace(/[^\w-]/g, '_')}` }, e.system),
      ':',
      h('span', { class: 'evname' }, e.name),
      h('span', { class: 'muted' }, ` · ${c.threadName(e.tid)} (tid ${e.tid}) · t=${(e.ts / 1000).toFixed(0)} µs`),
    ),
    h('p', { class: 'evtext' }, e.text),
    args.length
      ? h(
          'p',
          { class: 'args' },
          ...args.flatMap(([k, v]) => [h('span', { class: 'arg' }, h('b', null, k), ' ', formatValue(v)), ' ']),
        )
      : null,
    c.step
      ? h(
          'p',
          { class: `step-result${c.mismatches.length ? ' bad' : ''}` },
          h('b', null, `step ${c.step.step} ${c.step.op}`),
          c.step.unfinished ? ' (unfinished when the trace ends)' : '',
          c.result ? ` → ${describeResult(c.result)}` : '',
        )
      : null,
    ...c.mismatches.map((m) =>
      h('p', { class: 'mismatch' }, `✗ expected ${m.field} ${formatValue(m.expected)}, got ${formatValue(m.actual)}`),
    ),
  );
}

function fileSection(f: FileState, prev: FileState | undefined, vms: readonly VmState[]): HTMLElement {
  const npages = Math.ceil(f.size / PAGE);
  const pages = new Map(f.pages.map((p) => [p.index, p]));
  const prevPages = new Map((prev?.pages ?? []).map((p) => [p.index, p]));
  const bound = (i: number) => f.bindings.some((b) => i >= b.start && i < b.end);
  const per = npages > MAX_CELLS ? Math.ceil(npages / MAX_CELLS) : 1;
  const cells = Math.ceil(npages / per);
  const size = npages <= 64 ? 'big' : per > 1 ? 'agg' : 'mid';
  const cols = npages <= 16 ? Math.max(1, npages) : npages <= 64 ? 16 : 64;
  const grid = h('div', {
    class: `pagegrid ${size}`,
    role: 'img',
    'data-ino': String(f.ino),
    'data-cols': String(cols),
  });
  grid.style.setProperty('--cols', String(cols));
  const nodes: HTMLElement[] = [];
  for (let c = 0; c < cells; c++) {
    let kind: PageKind = 'absent';
    let spte = false;
    let host = false;
    let changed = false;
    let anyBound = false;
    const lo = c * per;
    const hi = Math.min(npages, lo + per);
    if (per === 1) {
      const p = pages.get(lo);
      kind = kindOf(p);
      spte = (p?.sptes.length ?? 0) > 0;
      host = (p?.hostMapped.length ?? 0) > 0;
      changed = prev !== undefined && sig(p) !== sig(prevPages.get(lo));
      anyBound = bound(lo);
    } else {
      for (const p of f.pages) {
        if (p.index < lo || p.index >= hi) continue;
        const k = kindOf(p);
        if (KIND_RANK[k] > KIND_RANK[kind]) kind = k;
        spte ||= p.sptes.length > 0;
        host ||= p.hostMapped.length > 0;
        changed ||= prev !== undefined && sig(p) !== sig(prevPages.get(p.index));
      }
      anyBound = f.bindings.some((b) => b.start < hi && b.end > lo);
    }
    const cls = ['page', kind];
    if (spte) cls.push('spte');
    if (host) cls.push('host');
    if (changed) cls.push('changed');
    if (!anyBound) cls.push('unbound');
    const p = per === 1 ? pages.get(lo) : undefined;
    const title =
      per === 1
        ? `index ${lo} (offset ${hex(lo * PAGE)}): ${KIND_TEXT[kind]}` +
          (p
            ? `, pfn ${hex(p.pfn)}, flags ${p.flags.join(' ') || '—'}, refcount ${p.refcount}` +
              (p.hostMapped.length ? `, host-mapped at ${p.hostMapped.map(hex).join(', ')}` : ', no host mapping') +
              (p.sptes.length ? `, SPTE: ${p.sptes.map(spteName).join(', ')}` : ', no SPTE')
            : '') +
          (anyBound ? '' : ', not bound to any memslot')
        : `indices ${lo}–${hi - 1}: worst is ${KIND_TEXT[kind]}${spte ? ', some mapped by an SPTE' : ''}`;
    const cell = h(
      'div',
      { class: cls.join(' '), 'data-index': String(lo), title },
      size === 'big' ? h('span', { class: 'idx' }, String(lo)) : null,
      size === 'big' && spte ? h('span', { class: 'badge spte-badge' }, 'SPTE') : null,
      size === 'big' && host ? h('span', { class: 'badge host-badge' }, 'host') : null,
    );
    nodes.push(cell);
  }
  grid.append(...nodes);
  const poisoned = f.pages.filter((p) => p.flags.includes('hwpoison')).length;
  const mapped = f.pages.filter((p) => p.sptes.length > 0).length;
  grid.setAttribute(
    'aria-label',
    `guest_memfd inode ${f.ino}: ${npages} pages, ${f.pages.length} allocated, ${poisoned} poisoned, ${mapped} mapped by an SPTE. The table below lists the allocated pages.`,
  );
  const spteOwners = new Map<string, VmState>();
  for (const v of vms) spteOwners.set(String(v.id), v);
  const changedPage = (p: PageState) => prev !== undefined && sig(p) !== sig(prevPages.get(p.index));
  const rows = f.pages.slice(0, MAX_ROWS).map((p) => ({
    cls: `${kindOf(p)}${prev && sig(p) !== sig(prevPages.get(p.index)) ? ' changed' : ''}`,
    attrs: { 'data-index': String(p.index) },
    cells: [
      `${p.index} (${hex(p.index * PAGE)})`,
      hex(p.pfn),
      h(
        'span',
        null,
        ...p.flags.map((fl) => h('span', { class: `flag fl-${fl}` }, fl)),
        p.corrupt && !p.flags.includes('hwpoison') ? h('span', { class: 'flag fl-corrupt' }, 'corrupt') : null,
      ),
      String(p.refcount),
      p.hostMapped.length ? p.hostMapped.map(hex).join(', ') : '—',
      p.sptes.length ? p.sptes.map(spteName).join(', ') : '—',
    ],
  }));
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'page grid legend' },
    ...(
      [
        ['absent', 'not allocated'],
        ['present', 'allocated'],
        ['poisoned', 'poisoned (PG_hwpoison)'],
        ['corrupt', 'corrupt, unreported'],
        ['present spte', 'mapped by an SPTE'],
        ['present host', 'mapped by the host'],
        ['present changed', 'changed by this event'],
        ['absent unbound', 'not bound to a memslot (faded)'],
      ] as const
    ).map(([cls, text]) => h('li', null, h('span', { class: `page swatch ${cls}` }), text)),
  );
  const headline = `${bytes(f.size)} · ${count(npages, 'page')} · ${f.pages.length} allocated · ${poisoned} poisoned · ${mapped} mapped by an SPTE`;
  return h(
    'section',
    { class: 'card file-card', 'aria-label': `guest_memfd inode ${f.ino}` },
    h('h3', null, `guest_memfd inode ${f.ino}`, h('span', { class: 'muted' }, ` · ${headline}`)),
    h(
      'div',
      { class: 'grid-row' },
      h('div', { class: 'grid-wrap' }, grid, per > 1 ? h('p', { class: 'muted' }, `one cell = ${per} pages`) : null),
      legend,
    ),
    f.bindings.length
      ? h(
          'p',
          { class: 'bindings' },
          'Bound: ',
          ...f.bindings.map((b) =>
            h('span', { class: 'chip' }, `indices ${b.start}–${b.end - 1} → VM ${b.vm} slot ${b.slot}`),
          ),
        )
      : h('p', { class: 'bindings muted' }, 'Not bound to any memslot.'),
    f.pages.length > 0 && f.pages.length <= MAX_CARDS
      ? h(
          'div',
          { class: 'page-cards', role: 'list', 'aria-label': `allocated pages of inode ${f.ino}` },
          ...f.pages.map((p) => pageCard(p, changedPage(p))),
        )
      : null,
    f.pages.length > MAX_CARDS
      ? h(
          'details',
          { class: 'pages-details' },
          h('summary', null, `Allocated pages (${f.pages.length})`),
          table(
            `allocated pages of inode ${f.ino}`,
            ['index (offset)', 'pfn', 'flags', 'refs', 'host mappings', 'SPTEs'],
            rows,
            f.pages.length - rows.length,
          ),
        )
      : null,
  );
}

function vmSection(v: VmState, prev: VmState | undefined, pfnToPage: ReadonlyMap<number, string>): HTMLElement {
  const prevSptes = new Set((prev?.sptes ?? []).map((x) => `${x.as_id}:${x.gfn}:${x.pfn}`));
  const inv = v.invalidation;
  const invChanged = prev && JSON.stringify(prev.invalidation) !== JSON.stringify(inv);
  const sptes = v.sptes.slice(0, MAX_ROWS);
  return h(
    'section',
    { class: 'card vm-card', 'data-vm': String(v.id), 'aria-label': `VM ${v.id}` },
    h(
      'h3',
      null,
      `VM ${v.id}`,
      h('span', { class: 'muted' }, ` · ${vmType(v.type)}`),
      v.dead ? h('span', { class: 'chip bad' }, 'dead') : null,
    ),
    h(
      'p',
      { class: `invalidation${inv.in_progress ? ' active' : ''}${invChanged ? ' changed' : ''}` },
      h('b', null, 'MMU invalidation: '),
      `mmu_invalidate_seq ${inv.seq} · in_progress ${inv.in_progress}`,
      inv.in_progress || inv.range_end > inv.range_start
        ? ` · range gfn ${hex(inv.range_start)}–${hex(inv.range_end)}`
        : '',
      inv.in_progress ? h('span', { class: 'chip warn' }, 'faults retry') : null,
    ),
    h(
      'p',
      null,
      h('b', null, 'Attributes: '),
      v.attributes.length
        ? v.attributes.map((a) => `gfn ${hex(a.start)}–${hex(a.end - 1)} ${attributes(a.attributes)}`).join('; ')
        : 'all shared',
    ),
    h('h4', null, `Memslots (${v.memslots.length})`),
    v.memslots.length
      ? table(
          `memslots of VM ${v.id}`,
          ['slot', 'as', 'gfn range', 'size', 'flags', 'userspace_addr', 'guest_memfd'],
          v.memslots.map((m) => ({
            cells: [
              String(m.id),
              String(m.as_id),
              `${hex(m.base_gfn)}–${hex(m.base_gfn + m.npages - 1)}`,
              bytes(m.npages * PAGE),
              m.flags.join(' ') || '—',
              hex(m.userspace_addr),
              m.gmem ? `inode ${m.gmem.ino} @ index ${m.gmem.pgoff}` : '—',
            ],
          })),
        )
      : h('p', { class: 'muted' }, 'none'),
    h('h4', null, `SPTEs (${v.sptes.length})`),
    v.sptes.length
      ? table(
          `SPTEs of VM ${v.id}`,
          ['as', 'gfn', 'pfn', 'access', 'kind', 'guest_memfd page'],
          sptes.map((x) => ({
            cls: prev && !prevSptes.has(`${x.as_id}:${x.gfn}:${x.pfn}`) ? 'changed' : '',
            attrs: { 'data-gfn': hex(x.gfn) },
            cells: [
              String(x.as_id),
              hex(x.gfn),
              hex(x.pfn),
              x.writable ? 'rw' : 'r',
              x.private ? 'private' : 'shared',
              pfnToPage.get(x.pfn) ?? '—',
            ],
          })),
          v.sptes.length - sptes.length,
        )
      : h('p', { class: 'muted spte-none' }, 'No SPTEs: every guest access faults.'),
  );
}

export function renderState(root: HTMLElement, c: StateContext): void {
  const st = c.state;
  const prevFiles = new Map((c.prev?.files ?? []).map((f) => [f.ino, f]));
  const prevVms = new Map((c.prev?.vms ?? []).map((v) => [v.id, v]));
  const pfnToPage = new Map<number, string>();
  for (const f of st.files) {
    for (const p of f.pages)
      pfnToPage.set(p.pfn, `inode ${f.ino} index ${p.index}${p.flags.includes('hwpoison') ? ' (poisoned)' : ''}`);
  }
  const mfChanged =
    c.prev &&
    (c.prev.poisonedPages !== st.poisonedPages || JSON.stringify(c.prev.mfStats) !== JSON.stringify(st.mfStats));
  fill(
    root,
    eventCard(c),
    ...(st.files.length
      ? st.files.map((f) => fileSection(f, prevFiles.get(f.ino), st.vms))
      : [section('guest_memfd', h('p', { class: 'muted' }, 'No guest_memfd file exists yet.'))]),
    h(
      'div',
      { class: 'cards' },
      ...st.vms.map((v) => vmSection(v, prevVms.get(v.id), pfnToPage)),
      section(
        'Locks held',
        st.locks.length
          ? table(
              'locks held',
              ['lock', 'holder'],
              st.locks.map((l) => ({
                cells: [
                  l.name,
                  [
                    l.owner ? `${c.threadName(l.owner)} (exclusive)` : '',
                    ...l.readers.map((r) => `${c.threadName(r)} (shared)`),
                  ]
                    .filter(Boolean)
                    .join(', '),
                ],
              })),
            )
          : h('p', { class: 'muted' }, 'none'),
      ),
      section(
        'Memory failure',
        h(
          'p',
          { class: mfChanged ? 'changed' : '' },
          `num_poisoned_pages ${st.poisonedPages} · handled ${st.mfStats.total} · recovered ${st.mfStats.recovered} · delayed ${st.mfStats.delayed} · failed ${st.mfStats.failed} · ignored ${st.mfStats.ignored}`,
        ),
      ),
    ),
  );
}
