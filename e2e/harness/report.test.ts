import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Report, secs } from './report.js';

/** A report whose output is kept instead of logged. */
function captured(spec: string | undefined): { report: Report; out: string[] } {
  const out: string[] = [];
  return { report: new Report(spec, (text) => out.push(text)), out };
}

describe('secs', () => {
  it.each([
    [0, '0.0 s'],
    [1234, '1.2 s'],
    [52_349, '52.3 s'],
    [999_950, '1000.0 s'],
  ])('shows %d ms as %s', (ms, text) => {
    expect(secs(ms)).toBe(text);
  });
});

describe('Report', () => {
  it.each([
    ['browser', '[e2e browser] screenshot 01-catalog.png'],
    ['restart', '[e2e restart] screenshot 01-catalog.png'],
    [undefined, '[e2e] screenshot 01-catalog.png'],
  ])('logs a noted line at once with the prefix of spec %s', (spec, logged) => {
    const { report, out } = captured(spec);
    report.note('screenshot 01-catalog.png');
    expect(out).toEqual([logged]);
    expect(report.lines).toEqual(['screenshot 01-catalog.png']);
  });

  it('keeps note usable on its own, taken out of the report', () => {
    const { report, out } = captured('failover');
    const { note } = report;
    note('one');
    note('two');
    expect(report.lines).toEqual(['one', 'two']);
    expect(out).toEqual(['[e2e failover] one', '[e2e failover] two']);
  });

  // The blocks the specs printed, letter for letter, before they shared this module.
  it.each([
    ['restart', '\n==== e2e restart report ====\na\nb\n============================'],
    ['failover', '\n==== e2e failover report ====\na\nb\n============================='],
    ['resharding', '\n==== e2e resharding report ====\na\nb\n==============================='],
    [undefined, '\n==== e2e report ====\na\nb\n===================='],
  ])(
    'prints the block of spec %s as the spec did: heading, lines, a rule as long as the heading',
    (spec, block) => {
      const { report, out } = captured(spec);
      report.note('a');
      report.note('b');
      out.length = 0;
      report.print();
      expect(out).toEqual([block]);
    },
  );

  it('prints an empty block when nothing was noted', () => {
    const { report, out } = captured('failover');
    report.print();
    expect(out).toEqual(['\n==== e2e failover report ====\n\n=============================']);
  });

  it('writes the fields and then the lines as summary, indented by two, to the file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2e-report-'));
    try {
      const file = join(dir, 'e2e-report.json');
      const { report } = captured(undefined);
      report.note('apply → Ready: 51.0 s');
      report.writeJson(file, { profile: 'local', applyToReadyMs: 51_000 });
      const text = readFileSync(file, 'utf8');
      expect(text).toBe(
        JSON.stringify(
          { profile: 'local', applyToReadyMs: 51_000, summary: ['apply → Ready: 51.0 s'] },
          null,
          2,
        ),
      );
      expect(Object.keys(JSON.parse(text) as object)).toEqual(['profile', 'applyToReadyMs', 'summary']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Without the check, writeFileSync would throw (undefined is no path; '' names no file).
  it.each([undefined, ''])(
    'writes no file, and does not throw, when the file name is %p (SAPP_E2E_REPORT not set)',
    (file) => {
      const { report } = captured(undefined);
      report.note('x');
      expect(() => report.writeJson(file, { profile: 'local' })).not.toThrow();
    },
  );
});
