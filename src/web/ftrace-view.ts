/// <reference lib="dom" />
// The run's ftrace text, as `gmemsim run --trace` prints it, with the selected event's line highlighted. Only the
// lines in view exist in the DOM, so a trace of any length scrolls smoothly; clicking a line selects its event.
import { h } from './dom.js';

const LINE_H = 18;

export class FtraceView {
  readonly root: HTMLElement;
  private readonly scroller: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly rows: HTMLDivElement;
  private readonly status: HTMLSpanElement;
  private readonly filterInput: HTMLInputElement;
  private readonly hideNoise: HTMLInputElement;
  private lines: string[] = [];
  /** index into `lines` of event 0; -1 when the text does not have one line per event */
  private firstEventLine = -1;
  /** the lines shown after filtering, as indices into `lines` */
  private shown: number[] = [];
  private cursor = -1;
  private text = '';

  constructor(private readonly onSelect: (seq: number) => void) {
    this.filterInput = h('input', {
      type: 'search',
      placeholder: 'filter lines (text)',
      'aria-label': 'Filter ftrace lines',
      class: 'ft-filter',
    });
    this.hideNoise = h('input', { type: 'checkbox', id: 'ft-hide-noise' });
    this.status = h('span', { class: 'muted', 'aria-live': 'polite' });
    this.spacer = h('div', { class: 'ft-spacer' });
    this.rows = h('div', { class: 'ft-rows' });
    this.scroller = h(
      'div',
      { class: 'ft-scroll', tabindex: '0', role: 'region', 'aria-label': 'ftrace text of the run' },
      this.spacer,
      this.rows,
    );
    const copy = h('button', { type: 'button', class: 'btn small' }, 'Copy all');
    copy.addEventListener('click', () => {
      void navigator.clipboard?.writeText(this.text).then(
        () => {
          this.status.textContent = 'copied';
        },
        () => {
          this.status.textContent = 'the browser refused the clipboard';
        },
      );
    });
    this.root = h(
      'div',
      { class: 'ftrace' },
      h(
        'div',
        { class: 'toolbar' },
        this.filterInput,
        h('label', { for: 'ft-hide-noise', class: 'check' }, this.hideNoise, ' hide lock and syscall lines'),
        copy,
        this.status,
      ),
      this.scroller,
    );
    this.filterInput.addEventListener('input', () => this.refilter());
    this.hideNoise.addEventListener('change', () => this.refilter());
    this.scroller.addEventListener('scroll', () => this.draw());
    this.rows.addEventListener('click', (e) => {
      const line = (e.target as HTMLElement).closest<HTMLElement>('.ft-line');
      const seq = line?.dataset.seq;
      if (seq !== undefined) this.onSelect(Number(seq));
    });
    new ResizeObserver(() => this.draw()).observe(this.scroller);
  }

  set(text: string, eventCount: number): void {
    this.text = text;
    this.lines = text.replace(/\n$/, '').split('\n');
    let header = 0;
    while (header < this.lines.length && this.lines[header].startsWith('#')) header++;
    this.firstEventLine = this.lines.length - header === eventCount ? header : -1;
    this.refilter();
  }

  private seqOf(line: number): number | undefined {
    return this.firstEventLine >= 0 && line >= this.firstEventLine ? line - this.firstEventLine : undefined;
  }

  private refilter(): void {
    const q = this.filterInput.value.trim().toLowerCase();
    const noise = this.hideNoise.checked;
    this.shown = [];
    for (let i = 0; i < this.lines.length; i++) {
      const l = this.lines[i];
      if (noise && / (lock_acquire|lock_release|sys_enter_\w+|sys_exit_\w+): /.test(l)) continue;
      if (q && !l.toLowerCase().includes(q)) continue;
      this.shown.push(i);
    }
    this.status.textContent =
      q || noise ? `${this.shown.length} of ${this.lines.length} lines` : `${this.lines.length} lines`;
    this.spacer.style.height = `${this.shown.length * LINE_H}px`;
    this.draw();
  }

  setCursor(seq: number, reveal: boolean): void {
    this.cursor = seq;
    if (reveal && this.firstEventLine >= 0 && seq >= 0) {
      const pos = this.shown.indexOf(this.firstEventLine + seq);
      if (pos >= 0) {
        const top = pos * LINE_H;
        const view = this.scroller.clientHeight;
        if (top < this.scroller.scrollTop || top + LINE_H > this.scroller.scrollTop + view)
          this.scroller.scrollTop = Math.max(0, top - view / 3);
      }
    }
    this.draw();
  }

  private draw(): void {
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / LINE_H) - 5);
    const last = Math.min(this.shown.length, Math.ceil((top + this.scroller.clientHeight) / LINE_H) + 5);
    const out: HTMLElement[] = [];
    for (let i = first; i < last; i++) {
      const line = this.shown[i];
      const seq = this.seqOf(line);
      const el = h(
        'div',
        {
          class: `ft-line${seq !== undefined && seq === this.cursor ? ' current' : ''}${seq === undefined ? ' header' : ''}`,
        },
        this.lines[line],
      );
      if (seq !== undefined) el.dataset.seq = String(seq);
      el.style.top = `${i * LINE_H}px`;
      out.push(el);
    }
    this.rows.replaceChildren(...out);
  }
}
