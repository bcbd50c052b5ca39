// The scenario library the page offers: every *.yaml/*.yml file directly inside the library folders (the
// package's scenarios/ and any --library DIR), plus the FILE given to `gmemsim serve`. The page names a scenario
// by its id; it never sends a path, so nothing outside these folders can be read.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, relative, resolve, sep } from 'node:path';
import { GmemsimError } from '../diagnostics/errors.js';
import type { KernelOptions } from '../kernel/options.js';
import { loadScenario, type Scenario } from '../scenario/load.js';
import { HttpError } from './http.js';

export interface LibraryEntry {
  readonly id: string;
  /** the file, relative to the working directory, for display */
  readonly file: string;
  readonly name: string;
  readonly description: string;
  /** thread names: a scenario with threads is explored, not run */
  readonly threads: readonly string[];
  readonly options: Partial<KernelOptions>;
  /** the scenario does not load; the message says why */
  readonly problem?: string;
  /** the FILE the server was started with */
  readonly initial?: boolean;
}

const SCENARIO_EXT = new Set(['.yaml', '.yml']);

interface Found {
  readonly id: string;
  readonly path: string;
  readonly initial: boolean;
}

export class Library {
  private readonly dirs: readonly string[];

  constructor(
    dirs: readonly string[],
    /** a scenario FILE given on the command line (not a JSON document) */
    private readonly initialScenario?: string,
  ) {
    this.dirs = dirs.map((d) => resolve(d));
  }

  private async files(): Promise<Found[]> {
    const out: Found[] = [];
    const ids = new Set<string>();
    const add = (path: string, initial: boolean) => {
      const stem = basename(path, extname(path));
      let id = stem;
      for (let n = 2; ids.has(id); n++) id = `${stem}-${n}`;
      ids.add(id);
      out.push({ id, path, initial });
    };
    if (this.initialScenario) add(resolve(this.initialScenario), true);
    for (const dir of this.dirs) {
      let names: string[];
      let realDir: string;
      try {
        realDir = await realpath(dir);
        names = (await readdir(realDir)).sort();
      } catch {
        continue; // a missing library folder is not an error: the package may ship none
      }
      for (const n of names) {
        if (!SCENARIO_EXT.has(extname(n))) continue;
        const p = resolve(realDir, n);
        try {
          // A symlink may not lead out of its folder.
          const real = await realpath(p);
          if (!real.startsWith(realDir + sep) || !(await stat(real)).isFile()) continue;
        } catch {
          continue;
        }
        add(p, false);
      }
    }
    return out;
  }

  async list(): Promise<LibraryEntry[]> {
    const out: LibraryEntry[] = [];
    for (const f of await this.files()) {
      const file = relative(process.cwd(), f.path) || f.path;
      try {
        const s = loadScenario(file, await readFile(f.path, 'utf8'));
        out.push({
          id: f.id,
          file,
          name: s.name,
          description: s.description.trim(),
          threads: [...s.threads.keys()],
          options: s.options,
          ...(f.initial ? { initial: true } : {}),
        });
      } catch (e) {
        out.push({
          id: f.id,
          file,
          name: basename(f.path),
          description: '',
          threads: [],
          options: {},
          problem: e instanceof GmemsimError ? `${e.code}: ${e.message}` : String(e),
          ...(f.initial ? { initial: true } : {}),
        });
      }
    }
    return out;
  }

  /** The text of a library scenario, read fresh so edits to the file show on the next run. */
  async text(id: string): Promise<{ file: string; text: string }> {
    const f = (await this.files()).find((x) => x.id === id);
    if (!f) throw new HttpError(404, 'GMEM5008', `no library scenario "${id.slice(0, 80)}"`);
    return { file: relative(process.cwd(), f.path) || f.path, text: await readFile(f.path, 'utf8') };
  }

  async scenario(id: string): Promise<Scenario> {
    const { file, text } = await this.text(id);
    return loadScenario(file, text);
  }
}
