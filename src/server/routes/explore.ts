// The concurrency explorer's entry points for the page, from src/api/explore-ui.ts. The import is dynamic and
// guarded so that a build without that module still serves runs: /api/explore and /api/variants then answer
// 501 with a coded error instead of the server failing to start.
import type { KernelOptions } from '../../kernel/options.js';
import type { Scenario } from '../../scenario/load.js';

/** What the server needs from src/api/explore-ui.ts. */
export interface ExplorerModule {
  /**
   * Explores a scenario's interleavings under `options`; with `token`, replays that one execution. Resolves to a
   * CounterexampleBundle when a property is violated, or to a RunBundle of one execution when none is.
   */
  readonly exploreForUi?: (
    scenario: Scenario,
    options: Partial<KernelOptions>,
    request: { readonly token?: string; readonly signal: AbortSignal },
  ) => unknown;
  /** Explores every error-handler variant × mm behaviour and resolves to a VariantTable. */
  readonly variantsForUi?: (scenario: Scenario, request: { readonly signal: AbortSignal }) => unknown;
}

export type ExplorerLoader = () => Promise<ExplorerModule | undefined>;

// A specifier in a variable keeps the compiler from demanding that the module exist.
const EXPLORER_MODULE = '../../api/explore-ui.js';

let cached: Promise<ExplorerModule | undefined> | undefined;

/** Imports the explorer once; `undefined` when the module is not there (yet). */
export const loadExplorer: ExplorerLoader = () => {
  cached ??= import(EXPLORER_MODULE).then(
    (m: ExplorerModule) => m,
    (e: unknown) => {
      const code = (e as { code?: string }).code;
      const msg = e instanceof Error ? e.message : String(e);
      // Only "no such module" means "not built yet"; a module that exists but fails to load is a bug to report.
      if (
        (code === 'ERR_MODULE_NOT_FOUND' || /Failed to load url|Cannot find module/.test(msg)) &&
        msg.includes('explore-ui')
      )
        return undefined;
      cached = undefined;
      throw e;
    },
  );
  return cached;
};
