// SLO results for people and for shells: an aligned plain-text table, and the exit code a CLI
// returns (0 only when every SLO was observed and met).
import type { SloResult } from './slo.ts';

const columns = ['SLO', 'n', 'p50 ms', 'p99 ms', 'max ms', 'threshold', 'result'] as const;
const rightAligned = new Set([1, 2, 3, 4]);

/**
 * @example
 *   SLO             n  p50 ms  p99 ms  max ms  threshold        result
 *   activate step   3    4.21    5.10    5.10  p99 ≤ 250 ms     pass
 */
export function formatSloTable(results: readonly SloResult[]): string {
  const rows: string[][] = [
    [...columns],
    ...results.map((result) => [
      result.flow ? `${result.name} (${result.flow})` : result.name,
      String(result.observed.n),
      ms(result.observed.p50),
      ms(result.observed.p99),
      ms(result.observed.max),
      thresholdOf(result),
      resultOf(result),
    ]),
  ];
  const widths = columns.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const lines = rows.map((row) =>
    row
      .map((cell, column) =>
        column === row.length - 1
          ? cell
          : rightAligned.has(column)
            ? cell.padStart(widths[column]!)
            : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd(),
  );
  const passed = results.filter((result) => result.pass).length;
  lines.push('', `${passed} of ${results.length} SLOs met`);
  return lines.join('\n');
}

/** 0 when every SLO passed; 1 when one was missed or had no sample to judge by. */
export function sloExitCode(results: readonly SloResult[]): 0 | 1 {
  return results.every((result) => result.pass) ? 0 : 1;
}

function thresholdOf(result: SloResult): string {
  const parts: string[] = [];
  const { percentile, max } = result.threshold;
  if (percentile) parts.push(`p${percentile.p} ≤ ${percentile.max} ms`);
  if (max !== undefined) parts.push(`max ≤ ${max} ms`);
  return parts.join(', ');
}

function resultOf(result: SloResult): string {
  const incomplete = result.incomplete ? ` (${result.incomplete} incomplete)` : '';
  if (result.status === 'no-data') return `NO DATA${incomplete}`;
  if (result.status === 'pass') return `pass${incomplete}`;
  const { percentile, max } = result.threshold;
  const why: string[] = [];
  if (percentile && result.observed.atPercentile! > percentile.max) {
    why.push(`p${percentile.p} was ${ms(result.observed.atPercentile)} ms`);
  }
  if (max !== undefined && result.observed.max! > max) why.push(`max was ${ms(result.observed.max)} ms`);
  return `FAIL: ${why.join(', ')}${incomplete}`;
}

function ms(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}
