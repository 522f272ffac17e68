// A vitest reporter that lists every skipped test after a run, and under CI fails the run when
// there is one: a skip (it.skip, skipIf, .only elsewhere, todo, ctx.skip()) is not a pass there.
// A run narrowed by name (-t) skips the rest on purpose, so it is only listed then.
import path from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { underCi } from './prerequisite.js';

export default class NoSkipsReporter implements Reporter {
  private narrowed = false;
  private root = process.cwd();

  onInit(vitest: Vitest): void {
    this.narrowed = vitest.config.testNamePattern !== undefined;
    this.root = vitest.config.root;
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    // A failed hook leaves its tests unrun ('run' mode, skipped state): that file already fails.
    const skipped = testModules.flatMap((m) =>
      [...m.children.allTests('skipped')]
        .filter((t) => t.options.mode !== 'run' || m.state() !== 'failed')
        .map((t) => {
          const result = t.result();
          const note = result.state === 'skipped' && result.note ? `: ${result.note}` : '';
          return `${path.relative(this.root, m.moduleId)} > ${t.fullName} (${t.options.mode}${note})`;
        }),
    );
    if (skipped.length === 0) return;
    const strict = underCi() && !this.narrowed;
    const lines = skipped.map((s) => `  - ${s}`).join('\n');
    if (strict) {
      console.error(`\n✖ ${skipped.length} test(s) skipped under CI, where every test must run:\n${lines}\n`);
      process.exitCode = 1;
    } else {
      console.warn(`\n${skipped.length} test(s) skipped${this.narrowed ? ' (run narrowed with -t)' : ''}:\n${lines}\n`);
    }
  }
}
