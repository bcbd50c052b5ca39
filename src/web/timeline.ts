/// <reference lib="dom" />
// The timeline: one lane per thread, steps as spans, lock holds as shaded bands under them, other events as
// marks, and a counterexample's happens-before edges as arrows between lanes. x is the event index (the model's
// logical clock), so every event gets the same width however the run was scheduled.
//
// d3 does the parts that are easy to get subtly wrong (scales, axis ticks, wheel/drag/touch zoom and pan); the
// shapes are drawn with plain SVG joins. Only what is in view is drawn, and dense marks are binned per pixel,
// so a trace of a hundred thousand events pans as smoothly as the seed story.
import { axisTop } from 'd3-axis';
import { type ScaleLinear, scaleLinear } from 'd3-scale';
import { type Selection, select } from 'd3-selection';
import { type D3ZoomEvent, type ZoomBehavior, zoom, zoomIdentity } from 'd3-zoom';
import type { HappensBefore } from '../api/ui-formats.js';
import type { LockHold, StepSpan, ThreadTimeline, Timeline } from '../trace/slices.js';
import type { TraceEvent } from '../trace/tracer.js';
import { h, s } from './dom.js';

export interface TimelineInput {
  readonly events: readonly TraceEvent[];
  readonly timeline: Timeline;
  readonly happensBefore: readonly HappensBefore[];
  readonly violation?: { readonly thread?: string; readonly code: string; readonly title: string };
  /** how a step ended, for its colour */
  readonly stepStatus: (s: StepSpan) => 'ok' | 'error' | 'mismatch';
}

const GUTTER = 150;
const AXIS = 26;
const STEP_H = 20;
const HOLD_H = 7;
const MAX_HOLD_ROWS = 4;
const MARK_H = 14;
const PAD = 6;
const RIGHT = 12;

interface Lane {
  readonly t: ThreadTimeline;
  readonly y: number;
  readonly h: number;
  readonly holdY: number;
  readonly markY: number;
}

/** The kind of lock, for its colour: "mmu_lock:1" → "mmu_lock", "folio:1048576" → "folio". */
export function lockKind(lock: string): string {
  return lock.replace(/:.*$/, '').replace(/[^\w-]/g, '_');
}

const MARK_RANK: Readonly<Record<string, number>> = {
  memory_failure: 7,
  ras: 7,
  signal: 6,
  gmemsim: 5,
  kvmmmu: 4,
  kvm: 3,
  printk: 2,
  syscalls: 1,
};

function markRank(e: TraceEvent): number {
  if (e.name === 'machine_check') return 8;
  return MARK_RANK[e.system] ?? 0;
}

/** What a lane is for, from the scenario's thread name. */
function laneRole(t: ThreadTimeline): string {
  if (t.name === 'main') return 'VMM steps';
  if (/^vcpu/i.test(t.name)) return 'vCPU';
  if (/^mf|memory.?fail/i.test(t.name)) return 'memory failure';
  return 'VMM thread';
}

export class TimelineView {
  readonly root: HTMLDivElement;
  private readonly svgEl: SVGSVGElement;
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly tip: HTMLDivElement;
  private readonly zoomer: ZoomBehavior<SVGSVGElement, unknown>;
  private x0: ScaleLinear<number, number> = scaleLinear();
  private x: ScaleLinear<number, number> = scaleLinear();
  private input: TimelineInput | undefined;
  private lanes: Lane[] = [];
  private height = 0;
  private width = 800;
  private cursor = -1;
  private showSyscalls = false;
  private frame = 0;

  constructor(private readonly onSelect: (seq: number) => void) {
    this.tip = h('div', { class: 'tl-tip', role: 'presentation', hidden: true });
    this.svgEl = s('svg', { class: 'tl-svg', 'aria-hidden': 'true' });
    this.root = h('div', { class: 'tl' }, this.svgEl, this.tip);
    this.svg = select(this.svgEl);
    const defs = s(
      'defs',
      null,
      s('clipPath', { id: 'tl-clip' }, s('rect', { class: 'tl-clip-rect' })),
      s(
        'marker',
        {
          id: 'tl-arrow',
          viewBox: '0 0 10 10',
          refX: '9',
          refY: '5',
          markerWidth: '7',
          markerHeight: '7',
          orient: 'auto-start-reverse',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'tl-arrowhead' }),
      ),
      s(
        'pattern',
        { id: 'tl-hatch', width: '4', height: '4', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
        s('rect', { width: '2', height: '4', class: 'tl-hatch-line' }),
      ),
    );
    this.svgEl.append(
      defs,
      s('g', { class: 'tl-bg' }),
      s('g', { class: 'tl-axis' }),
      s(
        'g',
        { class: 'tl-plot', 'clip-path': 'url(#tl-clip)' },
        s('g', { class: 'tl-steps' }),
        s('g', { class: 'tl-holds' }),
        s('g', { class: 'tl-marks' }),
        s('line', { class: 'tl-cursor' }),
        s('g', { class: 'tl-hb' }),
        s('g', { class: 'tl-violation' }),
      ),
      s('g', { class: 'tl-gutter' }),
    );
    this.zoomer = zoom<SVGSVGElement, unknown>().on('zoom', (e: D3ZoomEvent<SVGSVGElement, unknown>) => {
      this.x = e.transform.rescaleX(this.x0);
      this.schedule();
    });
    this.svg.call(this.zoomer).on('dblclick.zoom', null);
    this.svgEl.addEventListener('click', (e) => this.click(e));
    this.svgEl.addEventListener('mousemove', (e) => this.hover(e));
    this.svgEl.addEventListener('mouseleave', () => {
      this.tip.hidden = true;
    });
    new ResizeObserver(() => this.resize()).observe(this.root);
  }

  /** Replaces the happens-before arrows (the page shows all of them or only the essential ones). */
  setEdges(edges: readonly HappensBefore[]): void {
    if (this.input) this.input = { ...this.input, happensBefore: edges };
    this.schedule();
  }

  setSyscalls(on: boolean): void {
    this.showSyscalls = on;
    this.schedule();
  }

  set(input: TimelineInput | undefined): void {
    this.input = input;
    this.cursor = -1;
    let y = AXIS + 4;
    this.lanes = (input?.timeline.threads ?? []).map((t) => {
      const rows = Math.min(t.holdRows, MAX_HOLD_ROWS);
      const holdY = y + PAD + STEP_H + 2;
      const markY = holdY + rows * HOLD_H + 3;
      const lane = { t, y, h: markY + MARK_H + PAD - y, holdY, markY };
      y += lane.h;
      return lane;
    });
    this.height = y + 4;
    this.resize();
    this.svg.call(this.zoomer.transform, zoomIdentity);
  }

  private resize(): void {
    this.width = Math.max(300, this.root.clientWidth);
    const n = Math.max(1, this.input?.events.length ?? 1);
    const plotRight = this.width - RIGHT;
    this.x0 = scaleLinear()
      .domain([-0.5, n - 0.5])
      .range([GUTTER, plotRight]);
    const ext: [[number, number], [number, number]] = [
      [GUTTER, 0],
      [plotRight, this.height],
    ];
    // At the deepest zoom about a dozen events fill the width: enough to read every mark's label.
    this.zoomer
      .extent(ext)
      .translateExtent(ext)
      .scaleExtent([1, Math.max(1, n / 12)]);
    const t = this.svgEl.__zoom;
    this.x = t ? t.rescaleX(this.x0) : this.x0.copy();
    this.svgEl.setAttribute('width', String(this.width));
    this.svgEl.setAttribute('height', String(this.height));
    this.svgEl.setAttribute('viewBox', `0 0 ${this.width} ${this.height}`);
    const clip = this.svgEl.querySelector('.tl-clip-rect')!;
    clip.setAttribute('x', String(GUTTER));
    clip.setAttribute('y', '0');
    clip.setAttribute('width', String(Math.max(0, plotRight - GUTTER)));
    clip.setAttribute('height', String(this.height));
    this.schedule();
  }

  setCursor(seq: number): void {
    this.cursor = seq;
    const n = this.input?.events.length ?? 0;
    if (n > 0 && seq >= 0) {
      const px = this.x(seq);
      const [lo, hi] = this.x.range();
      // Keep the selected event in view: stepping past the edge pans, without changing the zoom.
      const [d0, d1] = this.x.domain();
      const canPan = d0 > -0.5 || d1 < n - 0.5;
      if (canPan && (px < lo + 20 || px > hi - 20)) {
        // panning fires a zoom event, which redraws everything
        this.svg.call(this.zoomer.translateTo, this.x0(seq), this.height / 2, [(lo + hi) / 2, this.height / 2]);
        return;
      }
    }
    // Stepping moves only the cursor: redrawing thousands of shapes per key press would make stepping lag.
    this.drawCursor();
  }

  private drawCursor(): void {
    const cur = this.svg.select('.tl-cursor');
    if (this.cursor >= 0 && this.input) {
      const cx = this.x(this.cursor);
      cur
        .attr('x1', cx)
        .attr('x2', cx)
        .attr('y1', AXIS - 2)
        .attr('y2', this.height)
        .attr('visibility', 'visible');
    } else cur.attr('visibility', 'hidden');
  }

  zoomBy(factor: number): void {
    const at = this.cursor >= 0 ? this.x(this.cursor) : (this.x.range()[0] + this.x.range()[1]) / 2;
    this.svg.call(this.zoomer.scaleBy, factor, [at, this.height / 2]);
  }

  /** Shows events lo..hi (inclusive) across the width. */
  zoomTo(lo: number, hi: number): void {
    const [r0, r1] = this.x0.range();
    const a = this.x0(lo - 0.5);
    const b = this.x0(hi + 0.5);
    const k = Math.max(1, (r1 - r0) / Math.max(1, b - a));
    this.svg.call(this.zoomer.transform, zoomIdentity.translate(r0 - a * k, 0).scale(k));
  }

  fit(): void {
    this.svg.call(this.zoomer.transform, zoomIdentity);
  }

  /** The visible event range, for tests and the status line. */
  visibleRange(): [number, number] {
    const [a, b] = this.x.domain();
    return [Math.max(0, Math.ceil(a)), Math.floor(b)];
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private laneAt(y: number): Lane | undefined {
    return this.lanes.find((l) => y >= l.y && y < l.y + l.h);
  }

  /** The lane's event nearest to x, or any event when the lane has none close by. */
  private nearest(px: number, lane: Lane | undefined, maxPx: number): number | undefined {
    const ev = this.input?.events;
    if (!ev || ev.length === 0) return undefined;
    const seq = Math.max(0, Math.min(ev.length - 1, Math.round(this.x.invert(px))));
    if (!lane) return seq;
    const span = Math.max(1, Math.ceil(Math.abs(this.x.invert(px + maxPx) - this.x.invert(px))));
    for (let d = 0; d <= span; d++) {
      for (const c of [seq - d, seq + d]) if (c >= 0 && c < ev.length && ev[c].tid === lane.t.tid) return c;
    }
    return undefined;
  }

  private point(e: MouseEvent): [number, number] {
    const r = this.svgEl.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private click(e: MouseEvent): void {
    if (e.defaultPrevented) return;
    const [px, py] = this.point(e);
    if (px < GUTTER) return;
    const lane = this.laneAt(py);
    const seq = this.nearest(px, lane, 12) ?? this.nearest(px, undefined, 0);
    if (seq !== undefined) this.onSelect(seq);
  }

  private hover(e: MouseEvent): void {
    const [px, py] = this.point(e);
    const lane = this.laneAt(py);
    const seq = px >= GUTTER && lane ? this.nearest(px, lane, 8) : undefined;
    const ev = seq === undefined ? undefined : this.input?.events[seq];
    if (!ev) {
      this.tip.hidden = true;
      return;
    }
    const hold = lane?.t.holds.find((x) => x.begin <= seq! && seq! <= x.end && py >= lane.holdY && py < lane.markY);
    this.tip.replaceChildren(
      h('b', null, `#${ev.seq} `),
      `${ev.system}:${ev.name} `,
      h('span', null, ev.text),
      hold
        ? h('div', null, `holding ${hold.label}${hold.shared ? ' (shared)' : ''}, events ${hold.begin}–${hold.end}`)
        : '',
    );
    this.tip.hidden = false;
    const left = Math.min(px + 12, this.width - 380);
    this.tip.style.left = `${Math.max(0, left)}px`;
    this.tip.style.top = `${py + 14}px`;
  }

  private render(): void {
    const input = this.input;
    const x = this.x;
    const [d0, d1] = x.domain();
    const lo = d0 - 1;
    const hi = d1 + 1;
    const pxPerEvent = Math.abs(x(1) - x(0));
    const svg = this.svg;

    // lane backgrounds and labels
    svg
      .select('.tl-bg')
      .selectAll<SVGRectElement, Lane>('rect')
      .data(this.lanes, (l) => String(l.t.tid))
      .join('rect')
      .attr('class', (_, i) => `tl-lane ${i % 2 ? 'odd' : 'even'}`)
      .attr('x', 0)
      .attr('y', (l) => l.y)
      .attr('width', this.width)
      .attr('height', (l) => l.h);
    const labels = svg
      .select('.tl-gutter')
      .selectAll<SVGGElement, Lane>('g.tl-label')
      .data(this.lanes, (l) => String(l.t.tid))
      .join((enter) => {
        const g = enter.append('g').attr('class', 'tl-label');
        g.append('rect').attr('class', 'tl-gutter-bg');
        g.append('text').attr('class', 'tl-name');
        g.append('text').attr('class', 'tl-sub');
        return g;
      });
    labels
      .select('rect')
      .attr('x', 0)
      .attr('y', (l) => l.y)
      .attr('width', GUTTER - 6)
      .attr('height', (l) => l.h);
    labels
      .select('.tl-name')
      .attr('x', 10)
      .attr('y', (l) => l.y + PAD + 14)
      .text((l) => l.t.name);
    labels
      .select('.tl-sub')
      .attr('x', 10)
      .attr('y', (l) => l.y + PAD + 30)
      .text((l) => `${laneRole(l.t)} · tid ${l.t.tid}`);

    // axis: event numbers
    const axis = axisTop(x)
      .ticks(Math.max(2, Math.floor((this.width - GUTTER) / 90)))
      .tickFormat((v) => (Number.isInteger(+v) ? `#${+v}` : ''))
      .tickSizeOuter(0);
    svg
      .select<SVGGElement>('.tl-axis')
      .attr('transform', `translate(0,${AXIS - 2})`)
      .call(axis);

    if (!input) return;
    const ev = input.events;
    const steps: Array<StepSpan & { y: number }> = [];
    const holds: Array<LockHold & { y: number }> = [];
    const marks: Array<{ seq: number; y: number; rank: number; cls: string; tall: boolean }> = [];
    // Zoomed out, many spans share a pixel: draw one rectangle per run of touching spans in a row, so the
    // number of elements follows the width of the screen, not the length of the trace.
    const merge = pxPerEvent < 2;
    for (const lane of this.lanes) {
      const visible = (sp: { begin: number; end: number }) => sp.end >= lo && sp.begin <= hi;
      for (const st of coalesce(lane.t.steps.filter(visible), x, merge, () => 0))
        steps.push({ ...st, y: lane.y + PAD });
      for (const ho of coalesce(lane.t.holds.filter(visible), x, merge, (h) => Math.min(h.row, MAX_HOLD_ROWS - 1)))
        holds.push({ ...ho, y: lane.holdY + Math.min(ho.row, MAX_HOLD_ROWS - 1) * HOLD_H });
      // Marks are sorted by seq; when more than one falls on a pixel column keep the most telling one.
      const byPixel = new Map<number, { seq: number; rank: number }>();
      const bin = pxPerEvent < 3;
      for (const seq of [...lane.t.marks, ...lane.t.strayReleases]) {
        if (seq < lo || seq > hi) continue;
        const e = ev[seq];
        if (!this.showSyscalls && e.system === 'syscalls') continue;
        const rank = e.name === 'lock_release' ? 0 : markRank(e);
        if (!bin) {
          marks.push({ seq, y: lane.markY, rank, cls: markClass(e), tall: rank >= 5 || isError(e) });
          continue;
        }
        const col = Math.round(x(seq));
        const prev = byPixel.get(col);
        if (!prev || prev.rank < rank) byPixel.set(col, { seq, rank });
      }
      for (const { seq, rank } of byPixel.values()) {
        const e = ev[seq];
        marks.push({ seq, y: lane.markY, rank, cls: markClass(e), tall: rank >= 5 || isError(e) });
      }
    }

    const status = input.stepStatus;
    const stepG = svg
      .select('.tl-steps')
      .selectAll<SVGGElement, StepSpan & { y: number }>('g.tl-step')
      .data(steps, (d) => `${d.tid}:${d.begin}`)
      .join((enter) => {
        const g = enter.append('g').attr('class', 'tl-step');
        g.append('rect');
        g.append('text');
        g.append('title');
        return g;
      });
    stepG
      .select('rect')
      .attr('class', (d) => `tl-step-${status(d)}${d.unfinished ? ' unfinished' : ''}`)
      .attr('x', (d) => x(d.begin - 0.5))
      .attr('y', (d) => d.y)
      .attr('width', (d) => Math.max(1, x(d.end + 0.5) - x(d.begin - 0.5)))
      .attr('height', STEP_H)
      .attr('rx', 3);
    stepG
      .select('text')
      .attr('x', (d) => Math.max(x(d.begin - 0.5), GUTTER) + 4)
      .attr('y', (d) => d.y + 14)
      .text((d) => {
        const w = Math.min(x(d.end + 0.5), this.width) - Math.max(x(d.begin - 0.5), GUTTER) - 8;
        const label = `${d.step} ${d.op}${d.unfinished ? ' …' : ''}`;
        const fit = Math.floor(w / 7);
        return fit >= label.length ? label : fit >= 4 ? `${label.slice(0, fit - 1)}…` : '';
      });
    stepG
      .select('title')
      .text((d) => `step ${d.step} ${d.op}: events ${d.begin}–${d.end}${d.unfinished ? ' (unfinished)' : ''}`);

    svg
      .select('.tl-holds')
      .selectAll<SVGRectElement, LockHold & { y: number }>('rect')
      .data(holds, (d) => `${d.tid}:${d.begin}:${d.lock}`)
      .join((enter) => {
        const r = enter.append('rect');
        r.append('title');
        return r;
      })
      .attr(
        'class',
        (d) => `tl-hold lk-${lockKind(d.lock)}${d.shared ? ' shared' : ''}${d.unreleased ? ' unreleased' : ''}`,
      )
      .attr('x', (d) => x(d.begin))
      .attr('y', (d) => d.y)
      .attr('width', (d) => Math.max(1.5, x(d.end) - x(d.begin)))
      .attr('height', HOLD_H - 1)
      .select('title')
      .text((d) => `${d.label} ${d.shared ? 'shared' : 'exclusive'}: events ${d.begin}–${d.end}`);

    svg
      .select('.tl-marks')
      .selectAll<SVGRectElement, (typeof marks)[number]>('rect')
      .data(marks, (d) => String(d.seq))
      // a mark's class follows from its event, so it is set once; only positions change on zoom
      .join((enter) => enter.append('rect').attr('class', (d) => `tl-mark ${d.cls}`))
      .attr('x', (d) => x(d.seq) - 1.5)
      .attr('y', (d) => d.y + (d.tall ? 0 : 4))
      .attr('width', 3)
      .attr('height', (d) => (d.tall ? MARK_H : MARK_H - 4));

    this.drawCursor();

    // happens-before arrows, numbered in the order the legend lists them
    const laneOf = new Map(this.lanes.map((l) => [l.t.tid, l]));
    const arrows = input.happensBefore.flatMap((hb, i) => {
      const a = ev[hb.from];
      const b = ev[hb.to];
      const la = a && laneOf.get(a.tid);
      const lb = b && laneOf.get(b.tid);
      if (!la || !lb) return [];
      return [{ i, hb, x1: x(hb.from), y1: la.markY + MARK_H / 2, x2: x(hb.to), y2: lb.markY + MARK_H / 2 }];
    });
    const hbG = svg
      .select('.tl-hb')
      .selectAll<SVGGElement, (typeof arrows)[number]>('g.tl-arrow')
      .data(arrows, (d) => String(d.i))
      .join((enter) => {
        const g = enter.append('g').attr('class', 'tl-arrow');
        g.append('path').attr('marker-end', 'url(#tl-arrow)');
        g.append('circle').attr('class', 'tl-arrow-src').attr('r', 3.5);
        g.append('circle').attr('class', 'tl-arrow-num').attr('r', 7);
        g.append('text');
        g.append('title');
        return g;
      });
    // A cubic from the source's mark row to the target's; the number sits a quarter of the way along, near the
    // source, where arrows that end close together still have distinct labels.
    const ctrl = (d: (typeof arrows)[number]) => {
      const dx = Math.max(20, Math.abs(d.x2 - d.x1) / 2);
      return d.y1 === d.y2 ? [d.x1 + dx / 2, d.y1 - 28, d.x2 - dx / 2, d.y2 - 28] : [d.x1 + dx, d.y1, d.x2 - dx, d.y2];
    };
    const at = (d: (typeof arrows)[number], t: number): [number, number] => {
      const [c1x, c1y, c2x, c2y] = ctrl(d);
      const u = 1 - t;
      return [
        u * u * u * d.x1 + 3 * u * u * t * c1x + 3 * u * t * t * c2x + t * t * t * d.x2,
        u * u * u * d.y1 + 3 * u * u * t * c1y + 3 * u * t * t * c2y + t * t * t * d.y2,
      ];
    };
    hbG.select('path').attr('d', (d) => {
      const [c1x, c1y, c2x, c2y] = ctrl(d);
      return `M${d.x1},${d.y1} C${c1x},${c1y} ${c2x},${c2y} ${d.x2},${d.y2}`;
    });
    hbG
      .select('.tl-arrow-src')
      .attr('cx', (d) => d.x1)
      .attr('cy', (d) => d.y1);
    // Past a handful of arrows the numbers would pile up; the list above the timeline still numbers them.
    const numbered = arrows.length <= 12;
    hbG.select('.tl-arrow-num').attr('visibility', numbered ? 'visible' : 'hidden');
    hbG.select('text').attr('visibility', numbered ? 'visible' : 'hidden');
    hbG
      .select('.tl-arrow-num')
      .attr('cx', (d) => at(d, 0.25)[0])
      .attr('cy', (d) => at(d, 0.25)[1]);
    hbG
      .select('text')
      .attr('x', (d) => at(d, 0.25)[0])
      .attr('y', (d) => at(d, 0.25)[1] + 3.5)
      .text((d) => String(d.i + 1));
    hbG.select('title').text((d) => `${d.i + 1}. #${d.hb.from} → #${d.hb.to}: ${d.hb.reason}`);

    // the violation: a flag at the end of the trace on the thread it is charged to
    const v = input.violation;
    const vl = v && (this.lanes.find((l) => l.t.name === v.thread) ?? laneOf.get(ev[ev.length - 1]?.tid ?? -1));
    const flags = v && vl ? [{ v, lane: vl, x: x(ev.length - 1) }] : [];
    const vg = svg
      .select('.tl-violation')
      .selectAll<SVGGElement, (typeof flags)[number]>('g')
      .data(flags)
      .join((enter) => {
        const g = enter.append('g').attr('class', 'tl-flag');
        g.append('path');
        g.append('text');
        g.append('title');
        return g;
      });
    vg.select('path').attr(
      'd',
      (d) => `M${d.x},${d.lane.y + 2} l0,${d.lane.h - 4} M${d.x},${d.lane.y + 2} l-12,6 l12,6 z`,
    );
    vg.select('text')
      .attr('x', (d) => d.x - 16)
      .attr('y', (d) => d.lane.y + 13)
      .attr('text-anchor', 'end')
      .text((d) => d.v.code);
    vg.select('title').text((d) => `${d.v.code}: ${d.v.title}`);
  }
}

/**
 * Merges spans (sorted by begin) of the same row whose pixels touch into the first of them, stretched. Step
 * labels and lock colours of the merged ones are lost, which is right: at that zoom nothing could show them.
 */
function coalesce<T extends { begin: number; end: number }>(
  spans: readonly T[],
  x: ScaleLinear<number, number>,
  on: boolean,
  row: (s: T) => number,
): T[] {
  if (!on) return spans as T[];
  const out: T[] = [];
  const open = new Map<number, { item: T; px: number; i: number }>();
  for (const s of spans) {
    const r = row(s);
    const cur = open.get(r);
    const x0 = x(s.begin);
    if (cur && x0 - cur.px < 1) {
      const end = Math.max(cur.item.end, s.end);
      out[cur.i] = { ...cur.item, end };
      cur.item = out[cur.i];
      cur.px = x(end);
      continue;
    }
    out.push(s);
    open.set(r, { item: s, px: x(s.end), i: out.length - 1 });
  }
  return out;
}

function markClass(e: TraceEvent): string {
  if (e.name === 'lock_release') return 'mk-stray';
  if (e.name === 'machine_check') return 'mk-mce';
  return `mk-${e.system.replace(/[^\w-]/g, '_')}`;
}

function isError(e: TraceEvent): boolean {
  return e.system === 'printk' && (e.args?.level === 'err' || e.args?.level === 'crit' || e.args?.level === 'emerg');
}

declare global {
  interface SVGSVGElement {
    /** d3-zoom keeps the current transform on the element */
    __zoom?: import('d3-zoom').ZoomTransform;
  }
}
