// A sparse map from integer ranges to values, like an xarray holding multi-index entries: storage grows with the
// number of distinct runs, not with the size of the range (a 1 TiB guest's attributes are one entry).
export interface Run {
  readonly start: number;
  readonly end: number;
  readonly value: number;
}

/** Sorted, non-overlapping, non-empty runs of non-zero values; absent means 0. */
export interface RangeMap {
  runs: Run[];
}

export function newRangeMap(): RangeMap {
  return { runs: [] };
}

/** The run containing i, by binary search. */
function find(m: RangeMap, i: number): number {
  let lo = 0;
  let hi = m.runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = m.runs[mid];
    if (i < r.start) hi = mid - 1;
    else if (i >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export function rangeGet(m: RangeMap, i: number): number {
  const j = find(m, i);
  return j < 0 ? 0 : m.runs[j].value;
}

/** Whether every index in [start, end) holds exactly `value`. */
export function rangeAll(m: RangeMap, start: number, end: number, value: number): boolean {
  let i = start;
  while (i < end) {
    const j = find(m, i);
    const v = j < 0 ? 0 : m.runs[j].value;
    if (v !== value) return false;
    i = j < 0 ? nextStart(m, i, end) : m.runs[j].end;
  }
  return true;
}

function nextStart(m: RangeMap, i: number, end: number): number {
  for (const r of m.runs) if (r.start > i) return Math.min(r.start, end);
  return end;
}

/** Stores `value` for [start, end); 0 erases. Neighbouring runs with equal values merge. */
export function rangeSet(m: RangeMap, start: number, end: number, value: number): void {
  if (start >= end) return;
  const out: Run[] = [];
  for (const r of m.runs) {
    if (r.end <= start || r.start >= end) {
      out.push(r);
      continue;
    }
    if (r.start < start) out.push({ start: r.start, end: start, value: r.value });
    if (r.end > end) out.push({ start: end, end: r.end, value: r.value });
  }
  if (value !== 0) out.push({ start, end, value });
  out.sort((a, b) => a.start - b.start);
  const merged: Run[] = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && last.end === r.start && last.value === r.value)
      merged[merged.length - 1] = { start: last.start, end: r.end, value: r.value };
    else merged.push(r);
  }
  m.runs = merged;
}
