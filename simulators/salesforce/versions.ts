// The REST API versions the simulator answers. The version comes from each URL
// (`/services/data/v62.0/…`) and shapes answers as it does in Salesforce: attribute URLs, upsert's
// 204 before 46.0, sObject Collections from 42.0.

/** Oldest and newest versions served: 31.0 (Summer '14) to 64.0 (Summer '25). */
export const oldestApiVersion = 31;
export const latestApiVersion = 64;

const seasons = ['Spring', 'Summer', 'Winter'] as const;

/** The release that brought a version, as `GET /services/data` labels it: 62 → "Winter '25". */
export function releaseLabel(major: number): string {
  // three releases a year; 60.0 was Spring '24, and a Winter release is named after the next year
  const offset = major - 60;
  const season = seasons[((offset % 3) + 3) % 3]!;
  const year = 24 + Math.floor(offset / 3) + (season === 'Winter' ? 1 : 0);
  return `${season} '${String(year).padStart(2, '0')}`;
}

/** `v62.0` → `62.0`; undefined for anything the simulator does not serve. */
export function apiVersionOf(segment: string): string | undefined {
  const match = /^v(\d+)\.0$/.exec(segment);
  const major = match ? Number(match[1]) : Number.NaN;
  return major >= oldestApiVersion && major <= latestApiVersion ? `${major}.0` : undefined;
}

/** The body of `GET /services/data`: every version, oldest first. */
export function versionsList(): { label: string; url: string; version: string }[] {
  const list = [];
  for (let major = oldestApiVersion; major <= latestApiVersion; major++) {
    list.push({ label: releaseLabel(major), url: `/services/data/v${major}.0`, version: `${major}.0` });
  }
  return list;
}

/** True when the version has a resource that arrived in `sinceMajor` (collections: 42, upsert 200: 46). */
export const atLeast = (apiVersion: string, sinceMajor: number): boolean =>
  Number.parseFloat(apiVersion) >= sinceMajor;
