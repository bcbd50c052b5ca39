/// <reference lib="dom" />
// The variant × property table: for each error-handler variant and mm behaviour, whether each property holds
// over every explored interleaving. A violated cell opens its counterexample.
import type { VariantResult, VariantTable } from '../api/ui-formats.js';
import { fill, h } from './dom.js';

export type OpenCounterexample = (row: VariantTable['rows'][number], code: string, r: VariantResult) => void;

export function renderVariants(root: HTMLElement, t: VariantTable | undefined, open: OpenCounterexample): void {
  if (!t) {
    fill(
      root,
      h(
        'p',
        { class: 'empty' },
        'No variant table yet. Pick a scenario with threads and press ',
        h('b', null, 'Variants'),
        ': every kvm_gmem_error_folio() variant × mm behaviour is explored and each property is checked.',
      ),
    );
    return;
  }
  const violated = t.rows.reduce(
    (n, r) => n + Object.values(r.results).filter((x) => x.status === 'violated').length,
    0,
  );
  fill(
    root,
    h('h2', null, `Variants × properties: ${t.scenario}`),
    h(
      'p',
      { class: 'muted' },
      `${t.rows.length} configurations × ${t.properties.length} properties; ${violated} violated. Press a violated cell to open its counterexample.`,
    ),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'variants' },
        h('caption', { class: 'sr-only' }, `Which properties hold for each variant of ${t.scenario}`),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'error handler'),
            h('th', { scope: 'col' }, 'mm'),
            ...t.properties.map((p) =>
              h(
                'th',
                { scope: 'col', title: p.title },
                h('span', { class: 'code' }, p.code),
                h('span', { class: 'ptitle' }, p.title),
              ),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          ...t.rows.map((row) =>
            h(
              'tr',
              null,
              h('th', { scope: 'row' }, row.variant),
              h('td', null, row.mm),
              ...t.properties.map((p) => {
                const r = row.results[p.code] ?? { status: 'n/a' as const };
                const ex = r.executions !== undefined ? h('span', { class: 'exec' }, `${r.executions} exec.`) : null;
                if (r.status === 'violated') {
                  return h(
                    'td',
                    { class: 'violated' },
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'cell-btn',
                        'aria-label': `${p.code} violated with ${row.variant} and mm ${row.mm}: open the counterexample`,
                        onclick: () => open(row, p.code, r),
                      },
                      '✗ violated',
                    ),
                    ex,
                  );
                }
                const label = { holds: '✓ holds', unknown: '? not established', 'n/a': 'n/a' }[r.status];
                return h(
                  'td',
                  {
                    class: r.status === 'holds' ? 'holds' : 'na',
                    title: r.status === 'unknown' ? 'the search was bounded' : '',
                  },
                  label,
                  ex ? ' ' : '',
                  ex,
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
