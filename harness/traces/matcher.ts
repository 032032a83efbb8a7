// Which spans a query, a wait or an SLO is about. One vocabulary for code and for SLO files.
import type { AttributeValue, SpanKindName, SpanStatusName, TraceSpan } from './span.ts';

/** A string or RegExp matches the span's name; `*` in a string matches any run of characters. */
export type NamePattern = string | RegExp;

export interface SpanMatch {
  name?: NamePattern;
  /** The resource's service.name. */
  service?: NamePattern;
  kind?: SpanKindName;
  status?: SpanStatusName;
  /** Shorthand for the attribute `flow.type`. */
  flow?: string;
  /** Shorthand for the attribute `flow.step`. */
  step?: string;
  /** Each must be equal (a string pattern for strings, `*` allowed; a RegExp for strings). */
  attributes?: Record<string, AttributeValue | RegExp>;
}

/** A span name, a pattern of fields, or a function. */
export type SpanMatcher = NamePattern | SpanMatch | ((span: TraceSpan) => boolean);

export function compileMatcher(matcher: SpanMatcher): (span: TraceSpan) => boolean {
  if (typeof matcher === 'function') return matcher;
  if (typeof matcher === 'string' || matcher instanceof RegExp) {
    const name = compilePattern(matcher);
    return (span) => name(span.name);
  }
  const checks: ((span: TraceSpan) => boolean)[] = [];
  if (matcher.name !== undefined) {
    const name = compilePattern(matcher.name);
    checks.push((span) => name(span.name));
  }
  if (matcher.service !== undefined) {
    const service = compilePattern(matcher.service);
    checks.push((span) => span.service !== undefined && service(span.service));
  }
  if (matcher.kind !== undefined) checks.push((span) => span.kind === matcher.kind);
  if (matcher.status !== undefined) checks.push((span) => span.status.code === matcher.status);
  const attributes: [string, AttributeValue | RegExp][] = Object.entries(matcher.attributes ?? {});
  if (matcher.flow !== undefined) attributes.push(['flow.type', matcher.flow]);
  if (matcher.step !== undefined) attributes.push(['flow.step', matcher.step]);
  for (const [key, expected] of attributes) {
    const test = compileValue(expected);
    checks.push((span) => {
      const actual = span.attributes[key];
      return actual !== undefined && test(actual);
    });
  }
  if (checks.length === 1) return checks[0]!;
  return (span) => {
    for (const check of checks) if (!check(span)) return false;
    return true;
  };
}

/** A readable form of a matcher, for error messages and tables. */
export function describeMatcher(matcher: SpanMatcher): string {
  if (typeof matcher === 'function') return matcher.name ? `${matcher.name}()` : 'a predicate';
  if (typeof matcher === 'string' || matcher instanceof RegExp) return `name ${String(matcher)}`;
  const parts = Object.entries(matcher).map(([key, value]) =>
    key === 'attributes'
      ? Object.entries(value as Record<string, unknown>)
          .map(([name, each]) => `${name}=${String(each)}`)
          .join(' ')
      : `${key}=${String(value)}`,
  );
  return parts.join(' ') || 'any span';
}

function compilePattern(pattern: NamePattern): (value: string) => boolean {
  if (pattern instanceof RegExp) return (value) => pattern.test(value);
  if (!pattern.includes('*')) return (value) => value === pattern;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 's');
  return (value) => regex.test(value);
}

function compileValue(expected: AttributeValue | RegExp): (actual: AttributeValue) => boolean {
  if (expected instanceof RegExp || (typeof expected === 'string' && expected.includes('*'))) {
    const pattern = compilePattern(expected);
    return (actual) => typeof actual === 'string' && pattern(actual);
  }
  if (Array.isArray(expected)) {
    const json = JSON.stringify(expected);
    return (actual) => Array.isArray(actual) && JSON.stringify(actual) === json;
  }
  return (actual) => actual === expected;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
