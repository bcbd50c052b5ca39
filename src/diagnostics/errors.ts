// Errors as data: a Diagnostic is a plain object; GmemsimError carries a list of them. One printer renders
// them for terminals (format.ts).
import { DIAGNOSTICS, type DiagnosticCode } from './codes.js';

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly message: string;
  /** where in a scenario file */
  readonly loc?: SourceLocation;
  /** dotted path of the offending field, e.g. "steps.3.mode" or "size" for API calls */
  readonly path?: string;
  readonly hint?: string;
}

export class GmemsimError extends Error {
  readonly code: DiagnosticCode;
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: Diagnostic | readonly Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics as Diagnostic];
    super(list.map((d) => d.message).join('; '));
    this.name = 'GmemsimError';
    this.code = list[0].code;
    this.diagnostics = list;
  }
}

/** A malformed scenario (exit status 2 in the CLI). */
export class ScenarioError extends GmemsimError {
  override name = 'ScenarioError';
}

/** A bad argument to the typed API. */
export class ApiArgumentError extends GmemsimError {
  override name = 'ApiArgumentError';
}

/** A request the model deliberately does not cover; never a guess. */
export class NotModeledError extends GmemsimError {
  override name = 'NotModeledError';
  constructor(message: string, hint?: string) {
    super({ code: 'GMEM3001', message, hint });
  }
}

export function diagnosticTitle(code: DiagnosticCode): string {
  return DIAGNOSTICS[code].title;
}
