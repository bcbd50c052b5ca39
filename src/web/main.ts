/// <reference lib="dom" />
// The gmemsim visualizer page: pick or load a scenario, run or explore it on the local server, then step through
// the run on a timeline while the kernel state at the selected event is shown below it.
import type { RunBundle } from '../api/bundle.js';
import type { HappensBefore, VariantTable } from '../api/ui-formats.js';
import type { StepResult } from '../ops/result.js';
import { toPerfetto } from '../trace/perfetto.js';
import type { StepSpan, Timeline } from '../trace/slices.js';
import type { KernelState } from '../trace/state.js';
import { Cancelled, DocClient, LoadError, type Loaded } from './doc.js';
import { byId, fill, h } from './dom.js';
import { dedupeEdges, essentialEdges, SHOW_ALL_EDGES_UP_TO } from './edges.js';
import { count } from './format.js';
import { FtraceView } from './ftrace-view.js';
import type { ErrorInfo, LoadSource, Phase, RunView } from './protocol.js';
import { renderState } from './stateview.js';
import { lockKind, TimelineView } from './timeline.js';
import { renderVariants } from './variants-view.js';

interface LibraryEntry {
  readonly id: string;
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly threads: readonly string[];
  readonly options: Record<string, unknown>;
  readonly problem?: string;
  readonly initial?: boolean;
}

interface Meta {
  readonly version: string;
  readonly options: { readonly mm: string[]; readonly error_handler: string[]; readonly kernel: string[] };
  readonly library: LibraryEntry[];
  readonly initial: { kind: 'document'; name: string } | { kind: 'scenario'; id?: string } | null;
  readonly limits: { readonly maxUploadBytes: number };
  readonly explorer: boolean;
}

type Source = { kind: 'library'; id: string } | { kind: 'text'; text: string; name: string };

interface Current {
  readonly doc: number;
  /** distinct happens-before edges, and those no other one implies */
  readonly edges: { readonly all: readonly HappensBefore[]; readonly essential: readonly HappensBefore[] };
  readonly run: RunView;
  readonly timeline: Timeline;
  /** every step of every thread, in the order they began */
  readonly steps: ReadonlyArray<StepSpan & { result?: StepResult; mismatches: RunBundle['mismatches'] }>;
  readonly threadNames: ReadonlyMap<number, string>;
  /** the step each event belongs to */
  readonly stepOf: Int32Array;
}

const $ = {
  sidebar: byId('sidebar'),
  toggleSidebar: byId<HTMLButtonElement>('toggle-sidebar'),
  docTitle: byId('doc-title'),
  library: byId('library'),
  fileInput: byId<HTMLInputElement>('file-input'),
  fileBtn: byId<HTMLButtonElement>('file-btn'),
  editor: byId<HTMLTextAreaElement>('editor'),
  editorDetails: byId<HTMLDetailsElement>('editor-details'),
  sourceNote: byId('source-note'),
  opt: {
    error_handler: byId<HTMLSelectElement>('opt-error_handler'),
    mm: byId<HTMLSelectElement>('opt-mm'),
    kernel: byId<HTMLSelectElement>('opt-kernel'),
    sw: byId<HTMLSelectElement>('opt-sw'),
  },
  runBtn: byId<HTMLButtonElement>('run-btn'),
  exploreBtn: byId<HTMLButtonElement>('explore-btn'),
  variantsBtn: byId<HTMLButtonElement>('variants-btn'),
  inputError: byId('input-error'),
  steps: byId<HTMLOListElement>('steps'),
  stepsSection: byId('steps-section'),
  tabs: [...document.querySelectorAll<HTMLButtonElement>('[role=tab]')],
  position: byId('position'),
  banner: byId('banner'),
  timelineHost: byId('timeline-host'),
  legend: byId('legend'),
  state: byId('state'),
  ftraceHost: byId('panel-ftrace'),
  variantsHost: byId('panel-variants'),
  progress: byId('progress'),
  progressBar: byId<HTMLProgressElement>('progress-bar'),
  progressText: byId('progress-text'),
  progressCancel: byId<HTMLButtonElement>('progress-cancel'),
  live: byId('live'),
  help: byId<HTMLDialogElement>('help'),
  exportPerfetto: byId<HTMLButtonElement>('export-perfetto'),
  exportState: byId<HTMLButtonElement>('export-state'),
  empty: byId('empty'),
};

const client = new DocClient();
let meta: Meta | undefined;
let source: Source | undefined;
let libraryText = '';
let current: Current | undefined;
let variants: VariantTable | undefined;
let cursor = -1;
let stateRequest = 0;
let currentStepButton: HTMLButtonElement | null = null;
let showAllEdges = true;

function shownEdges(c: Current): readonly HappensBefore[] {
  return showAllEdges ? c.edges.all : c.edges.essential;
}

const timeline = new TimelineView((seq) => select(seq));
$.timelineHost.append(timeline.root);
const ftrace = new FtraceView((seq) => select(seq));
$.ftraceHost.append(ftrace.root);

// ---------------------------------------------------------------- errors and progress

function showError(where: HTMLElement, e: unknown): void {
  // The error box sits under the Run button, which can be below the fold with the editor open.
  requestAnimationFrame(() => where.scrollIntoView({ block: 'nearest' }));
  if (e instanceof Cancelled) {
    fill(where, h('p', { class: 'muted' }, 'Cancelled.'));
    return;
  }
  const info: ErrorInfo = e instanceof LoadError ? e.info : { message: e instanceof Error ? e.message : String(e) };
  const diags = info.diagnostics?.length ? info.diagnostics : [{ code: info.code ?? '', message: info.message }];
  fill(
    where,
    h(
      'div',
      { class: 'error-box' },
      h(
        'p',
        { class: 'error-title' },
        info.title ? `${info.title[0].toUpperCase()}${info.title.slice(1)}` : 'Something went wrong',
      ),
      h(
        'ul',
        null,
        ...diags.map((d) =>
          h(
            'li',
            null,
            d.code ? h('code', null, d.code) : null,
            d.code ? ' ' : null,
            'loc' in d && d.loc ? h('span', { class: 'loc' }, `${d.loc.file}:${d.loc.line}:${d.loc.col}: `) : null,
            d.message,
            'hint' in d && d.hint ? h('div', { class: 'hint' }, `hint: ${d.hint}`) : null,
          ),
        ),
      ),
    ),
  );
}

function mb(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} kB`;
}

function showProgress(text: string | null, loaded = 0, total: number | null = null): void {
  if (text === null) {
    $.progress.hidden = true;
    return;
  }
  $.progress.hidden = false;
  $.progressText.textContent = text;
  if (total) {
    $.progressBar.max = total;
    $.progressBar.value = Math.min(loaded, total);
  } else $.progressBar.removeAttribute('value');
}

const PHASE_TEXT: Readonly<Record<Phase, string>> = {
  download: 'Loading',
  parse: 'Parsing the JSON (in a worker: the page stays responsive)…',
  index: 'Indexing events and lock holds…',
  transfer: 'Receiving events',
};

/** An absolute API URL: the worker would resolve a relative one against its own script's folder. */
function apiUrl(name: string): string {
  return new URL(`api/${name}`, document.baseURI).href;
}

async function load(src: LoadSource, waiting: string): Promise<Loaded> {
  showProgress(waiting);
  try {
    return await client.load(src, (phase, loaded, total) => {
      if (phase === 'download')
        showProgress(`${PHASE_TEXT.download} ${mb(loaded)}${total ? ` of ${mb(total)}` : ''}…`, loaded, total);
      else if (phase === 'transfer')
        showProgress(
          `${PHASE_TEXT.transfer}: ${count(loaded, 'event')} of ${(total ?? 0).toLocaleString('en-US')}…`,
          loaded,
          total,
        );
      else showProgress(PHASE_TEXT[phase]);
    });
  } finally {
    showProgress(null);
  }
}

$.progressCancel.addEventListener('click', () => client.cancel());

// ---------------------------------------------------------------- input: library, file, editor, options

function entry(id: string): LibraryEntry | undefined {
  return meta?.library.find((e) => e.id === id);
}

function setSource(s: Source | undefined, note?: string): void {
  source = s;
  const e = s?.kind === 'library' ? entry(s.id) : undefined;
  const threaded = e ? e.threads.length > 0 : s?.kind === 'text' ? /^threads\s*:/m.test(s.text) : false;
  $.runBtn.disabled = !s || threaded;
  $.runBtn.title = threaded
    ? 'This scenario has threads: Explore covers their interleavings'
    : 'Run the steps in order (Enter)';
  $.exploreBtn.disabled = !s;
  $.variantsBtn.disabled = !s;
  const explorerNote = meta && !meta.explorer ? ' (the concurrency explorer is not in this build yet)' : '';
  $.exploreBtn.title = `Explore every interleaving of the threads and open a counterexample${explorerNote}`;
  $.variantsBtn.title = `Check every error-handler variant × mm behaviour${explorerNote}`;
  $.sourceNote.textContent = note ?? (e ? e.file : s?.kind === 'text' ? s.name : '');
}

function renderLibrary(): void {
  // The file given to `serve` first, then the sequential stories, then the races, each by name.
  const rank = (e: LibraryEntry) => (e.initial ? 0 : e.threads.length ? 2 : 1);
  const lib = [...(meta?.library ?? [])].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  fill(
    $.library,
    ...lib.map((e) =>
      h(
        'label',
        { class: `lib-item${e.problem ? ' broken' : ''}`, title: e.description || e.file },
        h('input', { type: 'radio', name: 'library', value: e.id }),
        h(
          'span',
          { class: 'lib-text' },
          h('span', { class: 'lib-name' }, e.name),
          e.threads.length
            ? h('span', { class: 'chip' }, `threads: ${e.threads.join(', ')}`)
            : h('span', { class: 'chip seq' }, 'sequential'),
          e.problem ? h('span', { class: 'lib-problem' }, e.problem) : null,
        ),
      ),
    ),
  );
  for (const input of $.library.querySelectorAll<HTMLInputElement>('input[type=radio]'))
    input.addEventListener('change', () => void pickLibrary(input.value));
}

/** Marks the checked library entry with a class (a :has() rule would be re-checked on every DOM change). */
function markChecked(): void {
  for (const r of $.library.querySelectorAll<HTMLInputElement>('input[type=radio]'))
    r.closest('label')?.classList.toggle('checked', r.checked);
}

async function pickLibrary(id: string): Promise<void> {
  const radio = $.library.querySelector<HTMLInputElement>(`input[value="${CSS.escape(id)}"]`);
  if (radio) {
    radio.checked = true;
    radio.closest('label')?.scrollIntoView({ block: 'nearest' });
  }
  markChecked();
  setSource({ kind: 'library', id });
  fill($.inputError);
  try {
    const r = await fetch(apiUrl(`library/${encodeURIComponent(id)}`));
    const j = (await r.json()) as { text?: string; error?: ErrorInfo };
    if (!r.ok || j.text === undefined) throw new LoadError(r.status, j.error ?? { message: `HTTP ${r.status}` });
    // The user may have picked another entry or started typing while this was on its way.
    if (source?.kind !== 'library' || source.id !== id) return;
    libraryText = j.text;
    $.editor.value = j.text;
  } catch (e) {
    showError($.inputError, e);
  }
}

$.editor.addEventListener('input', () => {
  if ($.editor.value === libraryText && source?.kind === 'library') return;
  // Diagnostics name this file: say it is the edited text, not the file on disk.
  const name =
    source?.kind === 'library' ? `edited-${source.id}.yaml` : source?.kind === 'text' ? source.name : 'pasted.yaml';
  setSource({ kind: 'text', text: $.editor.value, name });
  for (const r of $.library.querySelectorAll<HTMLInputElement>('input[type=radio]')) r.checked = false;
  markChecked();
});

function fillOptions(): void {
  const o = meta?.options;
  const opts = (sel: HTMLSelectElement, values: readonly string[]) =>
    fill(sel, h('option', { value: '' }, 'scenario default'), ...values.map((v) => h('option', { value: v }, v)));
  opts($.opt.error_handler, o?.error_handler ?? []);
  opts($.opt.mm, o?.mm ?? []);
  opts($.opt.kernel, o?.kernel ?? []);
  fill(
    $.opt.sw,
    h('option', { value: '' }, 'scenario default'),
    h('option', { value: 'true' }, 'built in'),
    h('option', { value: 'false' }, 'not built (Debian)'),
  );
}

function chosenOptions(): Record<string, string | boolean> {
  const o: Record<string, string | boolean> = {};
  if ($.opt.error_handler.value) o.error_handler = $.opt.error_handler.value;
  if ($.opt.mm.value) o.mm = $.opt.mm.value;
  if ($.opt.kernel.value) o.kernel = $.opt.kernel.value;
  if ($.opt.sw.value) o.sw_protected_vm = $.opt.sw.value === 'true';
  return o;
}

function scenarioBody(s: Source): { library: string } | { text: string; name: string } {
  return s.kind === 'library' ? { library: s.id } : { text: s.text, name: s.name };
}

async function request(
  api: 'run' | 'explore' | 'variants',
  options: Record<string, unknown>,
  token?: string,
): Promise<void> {
  if (!source) return;
  fill($.inputError);
  const body = JSON.stringify({ scenario: scenarioBody(source), options, ...(token ? { token } : {}) });
  if (body.length > (meta?.limits.maxUploadBytes ?? Number.POSITIVE_INFINITY)) {
    showError(
      $.inputError,
      new LoadError(413, {
        code: 'GMEM5006',
        message: `the scenario is larger than the server's upload limit (${meta?.limits.maxUploadBytes} bytes)`,
      }),
    );
    return;
  }
  const waiting = {
    run: 'Running the scenario on the model…',
    explore: 'Exploring interleavings (this can take a while)…',
    variants: 'Checking every variant × property…',
  }[api];
  try {
    const loaded = await load({ kind: 'url', url: apiUrl(api), body }, waiting);
    open(loaded);
    // An exploration that found nothing returns one execution; say so, or it looks like a plain run.
    if (api === 'explore' && loaded.kind === 'run' && loaded.run.format === 'gmemsim-run/1') {
      fill(
        $.banner,
        h('p', { class: 'banner-title' }, 'No property was violated'),
        h(
          'p',
          null,
          'The explorer covered the interleavings of this scenario without a violation; this is one of them.',
        ),
      );
      $.banner.className = 'banner ok';
      $.banner.hidden = false;
    }
  } catch (e) {
    showError($.inputError, e);
  }
}

$.runBtn.addEventListener('click', () => void request('run', chosenOptions()));
$.exploreBtn.addEventListener('click', () => void request('explore', chosenOptions()));
$.variantsBtn.addEventListener('click', () => void request('variants', chosenOptions()));

async function openFile(file: File): Promise<void> {
  fill($.inputError);
  try {
    const loaded = await load({ kind: 'file', file }, `Reading ${file.name}…`);
    if (loaded.kind === 'not-document') {
      // A scenario: show it in the editor and run it (or leave it for Explore when it has threads).
      libraryText = '';
      $.editor.value = loaded.text;
      $.editorDetails.open = true;
      for (const r of $.library.querySelectorAll<HTMLInputElement>('input[type=radio]')) r.checked = false;
      markChecked();
      setSource({ kind: 'text', text: loaded.text, name: file.name });
      if (!$.runBtn.disabled) await request('run', chosenOptions());
      return;
    }
    open(loaded, file.name);
  } catch (e) {
    showError($.inputError, e);
  }
}

$.fileBtn.addEventListener('click', () => $.fileInput.click());
$.fileInput.addEventListener('change', () => {
  const f = $.fileInput.files?.[0];
  if (f) void openFile(f);
  $.fileInput.value = '';
});
document.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) {
    e.preventDefault();
    document.body.classList.add('dropping');
  }
});
document.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) document.body.classList.remove('dropping');
});
document.addEventListener('drop', (e) => {
  document.body.classList.remove('dropping');
  const f = e.dataTransfer?.files[0];
  if (f) {
    e.preventDefault();
    void openFile(f);
  }
});

// ---------------------------------------------------------------- documents

function open(loaded: Loaded, name?: string): void {
  if (loaded.kind === 'variants') {
    variants = loaded.table;
    renderVariants($.variantsHost, variants, openCounterexample);
    showTab('variants');
    return;
  }
  if (loaded.kind === 'not-document') {
    showError($.inputError, new Error(`${name ?? 'the file'} is neither a scenario nor a gmemsim document`));
    return;
  }
  const { run, timeline: tl, doc } = loaded;
  const threadNames = new Map(tl.threads.map((t) => [t.tid, t.name]));
  // Results carry their thread's name (none for the main steps); a step index repeats across threads. Queue
  // them by (thread, step, op) so each span takes the next one: linear however long the run.
  const results = new Map<string, StepResult[]>();
  for (const r of run.steps) {
    const k = `${r.thread ?? 'main'}|${r.step}|${r.op}`;
    const q = results.get(k);
    if (q) q.push(r);
    else results.set(k, [r]);
  }
  const mismatchesOf = new Map<string, RunBundle['mismatches'][number][]>();
  for (const m of run.mismatches) {
    const k = `${m.step}|${m.op}`;
    mismatchesOf.set(k, [...(mismatchesOf.get(k) ?? []), m]);
  }
  const steps = tl.threads
    .flatMap((t) => t.steps)
    .sort((a, b) => a.begin - b.begin)
    .map((sp) => {
      const thread = threadNames.get(sp.tid) || 'main';
      const result = results.get(`${thread}|${sp.step}|${sp.op}`)?.shift();
      const mismatches = thread === 'main' ? (mismatchesOf.get(`${sp.step}|${sp.op}`) ?? []) : [];
      return { ...sp, result, mismatches };
    });
  // step_begin seqs are unique across threads: one event is one thread's
  const byBegin = new Map(steps.map((sp) => [sp.begin, sp]));
  const stepOf = new Int32Array(run.events.length).fill(-1);
  steps.forEach((sp, i) => {
    for (let s = sp.begin; s <= sp.end && s < stepOf.length; s++) if (run.events[s].tid === sp.tid) stepOf[s] = i;
  });
  const all = dedupeEdges(run.happensBefore ?? []);
  const edges = { all, essential: essentialEdges(all, (seq) => run.events[seq]?.tid ?? -1) };
  showAllEdges = all.length <= SHOW_ALL_EDGES_UP_TO;
  current = { doc, run, timeline: tl, steps, threadNames, stepOf, edges };
  const isCx = run.format === 'gmemsim-counterexample/1';
  const opts = Object.entries(run.options)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(' · ');
  fill(
    $.docTitle,
    h('span', { class: `chip ${isCx ? 'bad' : 'ok'}` }, isCx ? 'counterexample' : 'run'),
    ' ',
    h('b', null, run.scenario.name),
    h('span', { class: 'muted' }, ` · ${opts}`),
  );
  document.title = `${run.scenario.name} · gmemsim`;
  $.empty.hidden = true;
  timeline.set({
    events: run.events,
    timeline: tl,
    happensBefore: shownEdges(current),
    violation: run.violation,
    stepStatus: (sp) => {
      const st = byBegin.get(sp.begin);
      if (st?.mismatches.length) return 'mismatch';
      return st?.result?.errno || st?.result?.panic ? 'error' : 'ok';
    },
  });
  renderBanner(run);
  renderLegend(run, tl);
  renderSteps();
  ftrace.set(run.ftrace, run.events.length);
  $.exportPerfetto.disabled = false;
  $.exportState.disabled = false;
  showTab('timeline');
  // A counterexample opens where it went wrong, zoomed to where its threads run (the setup steps before them
  // are sequential and rarely the point); a run opens at its start with the whole run in view.
  if (isCx) {
    const main = tl.threads[0]?.tid;
    const firstThreaded = run.events.findIndex((e) => e.tid !== main);
    const firstEdge = Math.min(...(run.happensBefore ?? []).map((e) => e.from));
    const lo = Math.max(0, Math.min(Math.max(0, firstThreaded), firstEdge) - 2);
    requestAnimationFrame(() => timeline.zoomTo(lo, run.events.length - 1));
  }
  select(isCx ? run.events.length - 1 : -1);
  if (isCx) $.banner.focus();
}

function renderBanner(run: RunView): void {
  const v = run.violation;
  const bad = run.mismatches.length;
  if (v && current) {
    const c = current;
    const hb = shownEdges(c);
    const hidden = c.edges.all.length - hb.length;
    const toggle =
      c.edges.all.length > c.edges.essential.length && c.edges.all.length > SHOW_ALL_EDGES_UP_TO
        ? h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                showAllEdges = !showAllEdges;
                timeline.setEdges(shownEdges(c));
                renderBanner(run);
              },
            },
            showAllEdges ? 'show only the essential edges' : `show all ${c.edges.all.length}`,
          )
        : null;
    fill(
      $.banner,
      h(
        'p',
        { class: 'banner-title' },
        h('code', null, v.code),
        ` ${v.title}`,
        v.thread ? ` · thread ${v.thread}` : '',
      ),
      h('p', null, v.message),
      hb.length
        ? h(
            'p',
            { class: 'hb-head' },
            `Happens-before: ${count(hb.length, 'edge')}`,
            hidden > 0 ? ` (${hidden} more are implied by these through program order) ` : ' ',
            toggle,
          )
        : null,
      hb.length
        ? h(
            'ol',
            { class: 'hb-list', 'aria-label': 'happens-before edges' },
            ...hb.map((e) =>
              h(
                'li',
                null,
                h('button', { type: 'button', class: 'link', onclick: () => select(e.from) }, `#${e.from}`),
                ' → ',
                h('button', { type: 'button', class: 'link', onclick: () => select(e.to) }, `#${e.to}`),
                `: ${e.reason}`,
              ),
            ),
          )
        : null,
      h('p', { class: 'token', title: 'replays this execution' }, `replay token ${v.token}`),
    );
    $.banner.className = 'banner violation';
    $.banner.hidden = false;
  } else if (bad || run.stopped) {
    fill(
      $.banner,
      h(
        'p',
        { class: 'banner-title' },
        run.stopped ? `Stopped: ${run.stopped}` : `${count(bad, 'expectation')} failed`,
      ),
      ...run.mismatches.map((m) =>
        h(
          'p',
          null,
          `${m.loc.file}:${m.loc.line}:${m.loc.col}: step ${m.step} (${m.op}): ${m.field}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`,
        ),
      ),
    );
    $.banner.className = 'banner warn';
    $.banner.hidden = false;
  } else {
    $.banner.hidden = true;
  }
}

/** A lock kind as kernel readers know it. */
function lockName(kind: string): string {
  return (
    {
      folio: 'folio lock',
      vcpu_mutex: 'vcpu->mutex',
      invalidate_lock: 'mapping->invalidate_lock',
      mmu_lock: 'kvm->mmu_lock',
      slots_lock: 'kvm->slots_lock',
      slots_arch_lock: 'kvm->slots_arch_lock',
      mmap_lock: 'mm->mmap_lock',
    }[kind] ?? kind
  );
}

function renderLegend(run: RunView, tl: Timeline): void {
  const locks = new Map<string, string>();
  for (const t of tl.threads)
    for (const hd of t.holds)
      if (!locks.has(lockKind(hd.lock))) locks.set(lockKind(hd.lock), lockName(lockKind(hd.lock)));
  const systems = [
    ...new Set(
      run.events
        .filter((e) => e.system !== 'gmemsim' || e.name === 'machine_check' || e.name.startsWith('gmem_'))
        .map((e) => (e.name === 'machine_check' ? 'mce' : e.system)),
    ),
  ];
  fill(
    $.legend,
    h('span', { class: 'lg-title' }, 'Locks held:'),
    ...[...locks].map(([k, label]) =>
      h('span', { class: 'lg-item' }, h('span', { class: `lg-swatch tl-hold lk-${k}` }), label),
    ),
    h('span', { class: 'lg-item' }, h('span', { class: 'lg-swatch tl-hold shared' }), 'shared (dashed)'),
    h('span', { class: 'lg-title' }, 'Events:'),
    ...systems.map((sys) =>
      h(
        'span',
        { class: 'lg-item' },
        h('span', { class: `lg-swatch tl-mark mk-${sys}` }),
        sys === 'mce' ? 'machine check' : sys,
      ),
    ),
    run.happensBefore?.length
      ? h('span', { class: 'lg-item' }, h('span', { class: 'lg-arrow' }, '→'), 'happens-before')
      : null,
  );
}

let stepsGeneration = 0;
const STEP_BATCH = 400;

function stepItem(c: Current, sp: Current['steps'][number], i: number, multi: boolean): HTMLLIElement {
  const r = sp.result;
  const bad = sp.mismatches.length > 0;
  const ret = r && (typeof r.ret === 'number' && Math.abs(r.ret) > 4096 ? `0x${r.ret.toString(16)}` : String(r.ret));
  const short = r
    ? `${r.errno ?? `ret ${ret}`}${r.exit_reason ? ` ${r.exit_reason.replace('KVM_EXIT_', '')}` : ''}`
    : sp.unfinished
      ? 'unfinished'
      : '';
  return h(
    'li',
    null,
    h(
      'button',
      {
        type: 'button',
        class: `step-item${multi ? ' multi' : ''}${bad ? ' bad' : r?.errno ? ' err' : ''}`,
        'data-step': String(i),
        title: bad
          ? sp.mismatches
              .map((m) => `expected ${m.field} ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`)
              .join('\n')
          : `events ${sp.begin}–${sp.end}`,
        onclick: () => select(sp.begin),
      },
      h('span', { class: 'st-idx' }, String(sp.step)),
      h('span', { class: 'st-op' }, sp.op),
      multi ? h('span', { class: 'chip' }, c.threadNames.get(sp.tid) ?? '') : null,
      h('span', { class: 'st-res' }, bad ? `✗ ${short}` : short),
    ),
  );
}

/** Fills the step list a few hundred buttons per task, so a run with thousands of steps never blocks a frame. */
function renderSteps(): void {
  const c = current;
  if (!c) return;
  const gen = ++stepsGeneration;
  currentStepButton = null;
  const multi = c.timeline.threads.length > 1;
  $.steps.replaceChildren();
  $.stepsSection.hidden = false;
  const batch = (from: number) => {
    if (gen !== stepsGeneration) return;
    const items: HTMLLIElement[] = [];
    for (let i = from; i < Math.min(c.steps.length, from + STEP_BATCH); i++)
      items.push(stepItem(c, c.steps[i], i, multi));
    $.steps.append(...items);
    if (from + STEP_BATCH < c.steps.length) setTimeout(() => batch(from + STEP_BATCH), 0);
  };
  batch(0);
}

async function openCounterexample(
  row: VariantTable['rows'][number],
  code: string,
  r: { token?: string },
): Promise<void> {
  const o = { ...chosenOptions(), error_handler: row.variant, mm: row.mm };
  fill($.inputError);
  try {
    await request('explore', o, r.token);
  } catch (e) {
    showError($.inputError, e);
  }
  void code;
}

// ---------------------------------------------------------------- selection

function select(seq: number): void {
  const c = current;
  if (!c) return;
  cursor = Math.max(-1, Math.min(c.run.events.length - 1, seq));
  timeline.setCursor(cursor);
  ftrace.setCursor(cursor, !$.ftraceHost.hidden);
  const e = c.run.events[cursor];
  const si = cursor >= 0 ? c.stepOf[cursor] : -1;
  const sp = si >= 0 ? c.steps[si] : undefined;
  fill(
    $.position,
    h('b', null, cursor < 0 ? 'start' : `#${cursor}`),
    ` of ${c.run.events.length}`,
    e ? ` · ${c.threadNames.get(e.tid) ?? e.tid}` : '',
    sp ? ` · step ${sp.step} ${sp.op}` : '',
    e ? h('span', { class: 'pos-ev' }, ` · ${e.name}`) : '',
  );
  // Only the previous and the new current step change: a long run has thousands of step buttons.
  const btn = si >= 0 ? $.steps.querySelector<HTMLButtonElement>(`.step-item[data-step="${si}"]`) : null;
  if (currentStepButton !== btn) {
    currentStepButton?.removeAttribute('aria-current');
    btn?.setAttribute('aria-current', 'step');
    currentStepButton = btn;
    // Scroll the step list only: scrollIntoView would also scroll the sidebar and hide the scenario controls.
    if (btn) {
      const list = $.steps;
      const top = btn.offsetTop;
      if (top < list.scrollTop || top + btn.offsetHeight > list.scrollTop + list.clientHeight)
        list.scrollTop = top - list.clientHeight / 3;
    }
  }
  announce(
    e
      ? `Event ${cursor} of ${c.run.events.length}: ${e.name}, ${c.threadNames.get(e.tid) ?? ''}: ${e.text}`
      : 'Start of the run',
  );
  void showState(c, cursor, sp);
}

async function showState(c: Current, seq: number, sp: Current['steps'][number] | undefined): Promise<void> {
  const req = ++stateRequest;
  let state: KernelState;
  let prev: KernelState | undefined;
  try {
    [state, prev] = await Promise.all([
      client.state(c.doc, seq),
      seq >= 0 ? client.state(c.doc, seq - 1) : Promise.resolve(undefined),
    ]);
  } catch (e) {
    if (req === stateRequest) showError($.state, e);
    return;
  }
  // Holding an arrow key sends many requests; only the newest one draws.
  if (req !== stateRequest || c !== current) return;
  renderState($.state, {
    event: c.run.events[seq],
    eventCount: c.run.events.length,
    threadName: (tid) => c.threadNames.get(tid) ?? `tid ${tid}`,
    step: sp,
    result: sp?.result,
    mismatches: sp?.mismatches ?? [],
    state,
    prev,
  });
  $.state.dataset.seq = String(seq);
}

let announceTimer = 0;
function announce(text: string): void {
  clearTimeout(announceTimer);
  announceTimer = window.setTimeout(() => {
    $.live.textContent = text;
  }, 250);
}

function stepBoundary(dir: 1 | -1): number {
  const c = current!;
  const begins = c.steps.map((sp) => sp.begin);
  if (dir > 0) return begins.find((b) => b > cursor) ?? c.run.events.length - 1;
  const before = begins.filter((b) => b < cursor);
  return before.length ? before[before.length - 1] : -1;
}

/** The next event worth stopping at: a kernel tracepoint or log line, not lock or syscall traffic. */
function nextMark(dir: 1 | -1): number {
  const ev = current!.run.events;
  for (let i = cursor + dir; i >= 0 && i < ev.length; i += dir) {
    const e = ev[i];
    if (e.system !== 'gmemsim' && e.system !== 'syscalls') return i;
    if (e.name === 'machine_check' || e.name.startsWith('gmem_invalidate')) return i;
  }
  return cursor;
}

// ---------------------------------------------------------------- tabs, keys, exports

function showTab(name: 'timeline' | 'ftrace' | 'variants'): void {
  for (const t of $.tabs) {
    const on = t.dataset.tab === name;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    byId(t.getAttribute('aria-controls')!).hidden = !on;
  }
  if (name === 'ftrace') ftrace.setCursor(cursor, true);
  if (name === 'variants') renderVariants($.variantsHost, variants, openCounterexample);
}

for (const t of $.tabs) {
  t.addEventListener('click', () => showTab(t.dataset.tab as 'timeline'));
  t.addEventListener('keydown', (e) => {
    const i = $.tabs.indexOf(t);
    const next =
      e.key === 'ArrowRight'
        ? i + 1
        : e.key === 'ArrowLeft'
          ? i - 1
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? $.tabs.length - 1
              : -99;
    if (next === -99) return;
    e.preventDefault();
    e.stopPropagation();
    const tab = $.tabs[(next + $.tabs.length) % $.tabs.length];
    tab.focus();
    showTab(tab.dataset.tab as 'timeline');
  });
}

const typing = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName));
/** Keys a focused tab uses itself (the ARIA tabs pattern); other keys still step. */
const TAB_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'Home', 'End']);

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (e.target instanceof HTMLElement && e.target.getAttribute('role') === 'tab' && TAB_KEYS.has(e.key)) return;
  if (e.key === '?') {
    $.help.showModal();
    e.preventDefault();
    return;
  }
  if (!current) return;
  const n = current.run.events.length;
  const keys: Record<string, () => number | undefined> = {
    ArrowRight: () => (e.shiftKey ? stepBoundary(1) : cursor + 1),
    ArrowLeft: () => (e.shiftKey ? stepBoundary(-1) : cursor - 1),
    j: () => cursor + 1,
    k: () => cursor - 1,
    J: () => stepBoundary(1),
    K: () => stepBoundary(-1),
    ']': () => stepBoundary(1),
    '[': () => stepBoundary(-1),
    n: () => nextMark(1),
    N: () => nextMark(-1),
    Home: () => -1,
    End: () => n - 1,
  };
  const go = keys[e.key];
  if (go) {
    const to = go();
    if (to !== undefined) select(to);
    e.preventDefault();
    return;
  }
  if (e.key === '+' || e.key === '=') timeline.zoomBy(2);
  else if (e.key === '-') timeline.zoomBy(0.5);
  else if (e.key === '0') timeline.fit();
  else return;
  e.preventDefault();
});

byId('first').addEventListener('click', () => select(-1));
byId('prev-step').addEventListener('click', () => current && select(stepBoundary(-1)));
byId('prev').addEventListener('click', () => select(cursor - 1));
byId('next').addEventListener('click', () => select(cursor + 1));
byId('next-step').addEventListener('click', () => current && select(stepBoundary(1)));
byId('last').addEventListener('click', () => current && select(current.run.events.length - 1));
byId('zoom-in').addEventListener('click', () => timeline.zoomBy(2));
byId('zoom-out').addEventListener('click', () => timeline.zoomBy(0.5));
byId('zoom-fit').addEventListener('click', () => timeline.fit());
byId<HTMLInputElement>('show-syscalls').addEventListener('change', (e) =>
  timeline.setSyscalls((e.target as HTMLInputElement).checked),
);
byId('help-btn').addEventListener('click', () => $.help.showModal());
byId('help-close').addEventListener('click', () => $.help.close());
byId('empty-run').addEventListener('click', () => {
  const seed = meta?.library.find((x) => x.id === 'seed-story') ?? meta?.library.find((x) => x.threads.length === 0);
  if (seed) void pickLibrary(seed.id).then(() => request('run', chosenOptions()));
});
$.toggleSidebar.addEventListener('click', () => {
  const shown = document.body.classList.toggle('no-sidebar') === false;
  $.toggleSidebar.setAttribute('aria-expanded', String(shown));
});

function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function fileStem(): string {
  return (current?.run.scenario.name ?? 'run').replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '') || 'run';
}

$.exportPerfetto.addEventListener('click', () => {
  if (!current) return;
  // The exporter needs events and threads only, which the page already has.
  const trace = toPerfetto(current.run as unknown as RunBundle);
  download(new Blob([JSON.stringify(trace)], { type: 'application/json' }), `${fileStem()}.perfetto.json`);
});
$.exportState.addEventListener('click', async () => {
  if (!current) return;
  try {
    download(
      await client.exportFull(current.doc),
      `${fileStem()}.${current.run.format === 'gmemsim-run/1' ? 'run' : 'counterexample'}.json`,
    );
  } catch (e) {
    showError($.inputError, e);
  }
});

// ---------------------------------------------------------------- start

async function start(): Promise<void> {
  fillOptions();
  try {
    const r = await fetch(apiUrl('meta'));
    meta = (await r.json()) as Meta;
    if (!r.ok) throw new LoadError(r.status, (meta as unknown as { error: ErrorInfo }).error);
  } catch (e) {
    showError($.inputError, e);
    return;
  }
  fillOptions();
  renderLibrary();
  renderVariants($.variantsHost, undefined, openCounterexample);
  const init = meta.initial;
  if (init?.kind === 'document') {
    try {
      open(await load({ kind: 'url', url: apiUrl('initial') }, `Opening ${init.name}…`), init.name);
    } catch (e) {
      showError($.inputError, e);
    }
  } else if (init?.kind === 'scenario' && init.id) {
    await pickLibrary(init.id);
    if (!$.runBtn.disabled) await request('run', chosenOptions());
  } else {
    const seed = meta.library.find((x) => x.id === 'seed-story') ?? meta.library[0];
    if (seed) await pickLibrary(seed.id);
  }
}

void start();
