// Design variants side by side: the same scenario explored under every kvm_gmem_error_folio() variant and
// memory_failure() behaviour, reduced to one status per property so a reviewer sees which variant breaks what.
import type { VariantResult, VariantTable } from '../api/ui-formats.js';
import type { DiagnosticCode } from '../diagnostics/codes.js';
import { ERROR_HANDLERS, type ErrorHandlerVariant, MM_BEHAVIOURS, type MmBehaviour } from '../kernel/options.js';
import { PROPERTY_CODES, propertyTitle } from '../properties/properties.js';
import type { Scenario } from '../scenario/load.js';
import type { ExploreResult } from './explore.js';

export interface VariantConfig {
  readonly error_handler: ErrorHandlerVariant;
  readonly mm: MmBehaviour;
}

/** Every combination, error handler major: the order rows appear in. */
export function variantConfigs(
  handlers: readonly ErrorHandlerVariant[] = ERROR_HANDLERS,
  mms: readonly MmBehaviour[] = MM_BEHAVIOURS,
): VariantConfig[] {
  return handlers.flatMap((error_handler) => mms.map((mm) => ({ error_handler, mm })));
}

/** The columns for a scenario: the state properties always, the expectation checks only when it has some. */
export function tableProperties(s: Scenario): DiagnosticCode[] {
  const codes: DiagnosticCode[] = [...PROPERTY_CODES];
  const hasExpect =
    [...s.threads.values()].some((steps) => steps.some((x) => x.expect)) || s.after.some((x) => x.expect);
  if (s.outcomes.length > 0) codes.push('GMEM4010');
  if (hasExpect) codes.push('GMEM4012');
  codes.push('GMEM4013');
  return codes;
}

/**
 * A violated property is violated whatever the rest of the search would find; "holds" needs the whole space
 * explored, so a bounded or interrupted search leaves the others "unknown".
 */
export function propertyStatus(r: ExploreResult, code: DiagnosticCode): VariantResult {
  const v = r.violations.find((x) => x.code === code);
  if (v) return { status: 'violated', token: v.token, executions: r.executions };
  return { status: r.complete ? 'holds' : 'unknown', executions: r.executions };
}

export function variantTable(
  s: Scenario,
  rows: ReadonlyArray<{ readonly config: VariantConfig; readonly result: ExploreResult }>,
): VariantTable {
  const codes = tableProperties(s);
  return {
    format: 'gmemsim-variants/1',
    scenario: s.name,
    file: s.file,
    properties: codes.map((code) => ({ code, title: propertyTitle(code) })),
    rows: rows.map(({ config, result }) => ({
      variant: config.error_handler,
      mm: config.mm,
      complete: result.complete,
      executions: result.executions,
      results: Object.fromEntries(codes.map((c) => [c, propertyStatus(result, c)])),
    })),
  };
}
