// What an e2e spec says while it runs, and the report it gives at the end. Each line is logged at once as
// `[e2e <spec>] line` and kept; a spec that reports prints the kept lines in one block after its last step:
//
//   ==== e2e failover report ====
//   namespace e2e-failover-x1y2: Ready after 52.3 s
//   ...
//   =============================
//
// and the shop spec also writes them, with its measurements, as JSON to the file SAPP_E2E_REPORT names.
import { writeFileSync } from 'node:fs';

/** Milliseconds as seconds with one decimal: `secs(1234)` is "1.2 s". */
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class Report {
  /** Every line noted so far, in order. */
  readonly lines: string[] = [];
  /** `e2e failover`; `e2e` for a spec without a name of its own (shop). */
  readonly title: string;

  /**
   * `spec`: the name in the prefix and the report's heading (`failover` gives `[e2e failover] ...`).
   * `log`: where lines go (console.log, looked up when a line is logged, so jest's console captures it).
   */
  constructor(
    spec: string | undefined,
    private readonly log: (text: string) => void = (text) => console.log(text),
  ) {
    this.title = spec ? `e2e ${spec}` : 'e2e';
  }

  /** Logs a line with the spec's prefix and keeps it for the report (a function: `const { note } = report`). */
  readonly note = (line: string): void => {
    this.lines.push(line);
    this.log(`[${this.title}] ${line}`);
  };

  /** The report block: a blank line, the heading, every line noted, a rule as long as the heading. */
  block(): string {
    const heading = `==== ${this.title} report ====`;
    return `\n${heading}\n${this.lines.join('\n')}\n${'='.repeat(heading.length)}`;
  }

  /** Prints the report block. */
  print(): void {
    this.log(this.block());
  }

  /**
   * Writes `fields` and the lines noted (as `summary`, the last key) to `file` as indented JSON; nothing when
   * `file` is undefined or empty (SAPP_E2E_REPORT not set).
   */
  writeJson(file: string | undefined, fields: Record<string, unknown>): void {
    if (!file) return;
    writeFileSync(file, JSON.stringify({ ...fields, summary: this.lines }, null, 2));
  }
}
