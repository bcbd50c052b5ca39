// The one registry of diagnostic codes. The CLI, the web UI and the docs read titles from here; a code, once
// published, keeps its meaning.
//   GMEM1xxx  scenario language (parse, schema, labels)
//   GMEM2xxx  typed API arguments
//   GMEM3xxx  what the model does not cover, and internal model faults
//   GMEM4xxx  properties and invariants checked on runs and explorations
//   GMEM5xxx  command line and files

export type DiagnosticCategory = 'scenario' | 'api' | 'model' | 'property' | 'cli';

export interface DiagnosticInfo {
  readonly category: DiagnosticCategory;
  readonly title: string;
}

export const DIAGNOSTICS = {
  GMEM1001: { category: 'scenario', title: 'YAML or JSON syntax error' },
  GMEM1002: { category: 'scenario', title: 'the document is not a mapping' },
  GMEM1003: { category: 'scenario', title: 'unknown top-level field' },
  GMEM1004: { category: 'scenario', title: 'missing required field' },
  GMEM1005: { category: 'scenario', title: 'wrong value type' },
  GMEM1006: { category: 'scenario', title: 'unknown op' },
  GMEM1007: { category: 'scenario', title: 'unknown argument for this op' },
  GMEM1008: { category: 'scenario', title: 'unknown macro name' },
  GMEM1009: { category: 'scenario', title: 'number out of range' },
  GMEM1010: { category: 'scenario', title: 'label used before it is defined' },
  GMEM1011: { category: 'scenario', title: 'label defined twice' },
  GMEM1012: { category: 'scenario', title: 'unknown expect field' },
  GMEM1013: { category: 'scenario', title: 'unknown option value' },
  GMEM1014: { category: 'scenario', title: 'document too large or too deeply nested' },
  GMEM1015: { category: 'scenario', title: 'invalid guest program' },
  GMEM1016: { category: 'scenario', title: 'invalid argument combination' },
  GMEM1017: { category: 'scenario', title: 'step cannot run as written' },

  GMEM2001: { category: 'api', title: 'invalid argument' },
  GMEM2002: { category: 'api', title: 'unknown op' },

  GMEM3001: { category: 'model', title: 'not covered by the model' },
  GMEM3900: { category: 'model', title: 'internal model error' },
  GMEM3901: { category: 'model', title: 'a lone thread blocked forever' },

  GMEM5001: { category: 'cli', title: 'cannot read file' },
  GMEM5002: { category: 'cli', title: 'invalid command-line option' },
} as const satisfies Record<string, DiagnosticInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTICS;
