import type { UpsertResult } from './store.ts';

/** The REST path of a record, as in `attributes.url` and the `Location` header. */
export const sobjectUrl = (apiVersion: string, type: string, id: string): string =>
  `/services/data/v${apiVersion}/sobjects/${type}/${id}`;

/** A record as the REST API shows it: its `attributes` block first, then the fields. */
export function withAttributes(
  type: string,
  record: Record<string, unknown>,
  apiVersion: string,
): Record<string, unknown> {
  const id = record.Id;
  return {
    attributes: { type, url: sobjectUrl(apiVersion, type, typeof id === 'string' ? id : '') },
    ...record,
  };
}

/** The body of a successful create (HTTP 201). */
export const saveResult = (id: string) => ({ id, success: true, errors: [] as never[] });

export type ApiResponse = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * The answer to `PATCH /sobjects/{type}/{field}/{value}`. A created record gets 201; an updated one
 * gets 200 with `created: false` from API version 46.0 on and 204 without a body before it; several
 * matches get 300 with the matching records' URLs.
 */
export function upsertResponse(type: string, result: UpsertResult, apiVersion: string): ApiResponse {
  if (result.outcome === 'multiple') {
    return { status: 300, body: result.ids.map((id) => sobjectUrl(apiVersion, type, id)) };
  }
  if (result.outcome === 'created') {
    return {
      status: 201,
      body: { ...saveResult(result.id), created: true },
      headers: { Location: sobjectUrl(apiVersion, type, result.id) },
    };
  }
  if (Number.parseFloat(apiVersion) < 46) return { status: 204, body: undefined };
  return { status: 200, body: { ...saveResult(result.id), created: false } };
}
