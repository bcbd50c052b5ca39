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
  GMEM2003: { category: 'api', title: 'invalid replay token' },

  GMEM3001: { category: 'model', title: 'not covered by the model' },
  GMEM3900: { category: 'model', title: 'internal model error' },
  GMEM3901: { category: 'model', title: 'a lone thread blocked forever' },

  GMEM4001: { category: 'property', title: 'an SPTE maps a poisoned folio after the error handler returned' },
  GMEM4002: { category: 'property', title: 'a guest access to a poisoned page completed normally' },
  GMEM4003: { category: 'property', title: 'an SPTE maps a pfn no longer in the bound file (use after free)' },
  GMEM4004: { category: 'property', title: 'MMU invalidation bookkeeping is unbalanced' },
  GMEM4005: { category: 'property', title: 'data of an unpoisoned page was lost' },
  GMEM4006: { category: 'property', title: "an SPTE disagrees with the gfn's private/shared attribute" },
  GMEM4007: { category: 'property', title: 'memory failure signalled a task that does not map the page' },
  GMEM4008: { category: 'property', title: 'deadlock: every live thread is blocked' },
  GMEM4009: { category: 'property', title: 'a WARN_ON or KVM_BUG_ON fired' },
  GMEM4010: { category: 'property', title: 'an outcome outside the allowed `outcomes:`' },
  GMEM4011: { category: 'property', title: 'livelock: a thread made no progress within the bound' },
  GMEM4012: { category: 'property', title: 'an expectation of a thread or `after` step failed' },
  GMEM4013: { category: 'property', title: 'the kernel panicked' },

  GMEM5001: { category: 'cli', title: 'cannot read file' },
  GMEM5002: { category: 'cli', title: 'invalid command-line option' },
  GMEM5003: { category: 'cli', title: 'cannot write file' },
  GMEM5004: { category: 'cli', title: 'cannot start the web server' },
  GMEM5005: { category: 'cli', title: 'request refused: foreign Host or Origin' },
  GMEM5006: { category: 'cli', title: 'request body too large' },
  GMEM5007: { category: 'cli', title: 'malformed request' },
  GMEM5008: { category: 'cli', title: 'no such resource' },
  GMEM5009: { category: 'cli', title: 'not available in this build' },
  GMEM5010: { category: 'cli', title: 'the web UI assets are missing' },
  GMEM5011: { category: 'cli', title: 'cannot resume from this checkpoint' },
  GMEM5012: { category: 'cli', title: 'checkpoint file unreadable or malformed' },
  GMEM5101: { category: 'cli', title: 'the real-kernel oracle cannot run here' },
  GMEM5102: { category: 'cli', title: 'a downloaded kernel package failed its checksum' },
  GMEM5103: { category: 'cli', title: 'the oracle run failed' },
} as const satisfies Record<string, DiagnosticInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTICS;
