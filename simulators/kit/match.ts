// Which requests a rule applies to. Patterns are compiled once, when the rule is added, so a
// request pays only for regular-expression tests.
import type { IncomingHttpHeaders } from 'node:http';
import type { RuleMatchInput } from './rules.ts';

/** What a rule can look at in a request. `tenant` is only asked for when a rule names tenants. */
export interface MatchableRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  tenant(): string | undefined;
}

export type RequestMatcher = (request: MatchableRequest) => boolean;

/**
 * A path pattern as a regular expression: `*` is any text within one segment, `**` any number of
 * segments (none included), `:name` one non-empty segment. A trailing slash is optional.
 * @example compilePathPattern('/v1/customers/:id').test('/v1/customers/cus_1') // true
 */
export function compilePathPattern(pattern: string): RegExp {
  let source = '';
  for (const segment of pattern.split('/').slice(1)) {
    if (segment === '**') source += '(?:/.*)?';
    else if (segment.startsWith(':')) source += '/[^/]+';
    else source += `/${segment.split('*').map(escapeRegExp).join('[^/]*')}`;
  }
  return new RegExp(`^${source}/?$`);
}

/** A header value with `*` wildcards, else the exact value. */
function compileValuePattern(pattern: string): (value: string) => boolean {
  if (!pattern.includes('*')) return (value) => value === pattern;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 's');
  return (value) => regex.test(value);
}

export function compileMatch(match: RuleMatchInput | undefined): RequestMatcher {
  const tests: RequestMatcher[] = [];
  if (match?.method !== undefined) {
    const methods = new Set(list(match.method).map((method) => method.toUpperCase()));
    tests.push((request) => methods.has(request.method));
  }
  if (match?.path !== undefined) {
    const regex = compilePathPattern(match.path);
    tests.push((request) => regex.test(request.path));
  }
  for (const [name, pattern] of Object.entries(match?.headers ?? {})) {
    const lower = name.toLowerCase();
    const test = compileValuePattern(pattern);
    tests.push((request) => {
      const value = request.headers[lower];
      return (Array.isArray(value) ? value : value === undefined ? [] : [value]).some(test);
    });
  }
  if (match?.tenant !== undefined) {
    const tenants = new Set(list(match.tenant));
    tests.push((request) => {
      const tenant = request.tenant();
      return tenant !== undefined && tenants.has(tenant);
    });
  }
  return (request) => tests.every((test) => test(request));
}

function list(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
