// A scenario step that cannot run as written, found only when it runs (e.g. no page behind an offset).
import { GmemsimError } from '../diagnostics/errors.js';

export class ScenarioRuntimeError extends GmemsimError {
  override name = 'ScenarioRuntimeError';
  constructor(message: string) {
    super({ code: 'GMEM1017', message });
  }
}
