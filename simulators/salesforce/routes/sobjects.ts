// sObject resources: describe, create, retrieve, update, delete, and the same by external id.
import type { ApiRequest, DataApi, DataRoute } from '../api.ts';
import { notFound } from '../errors.ts';
import { normalizeId } from '../ids.ts';
import { type ApiResponse, saveResult, sobjectUrl, upsertResponse } from '../present.ts';
import type { SObjectDef } from '../schema.ts';

const objectOf = (api: DataApi, type: string | undefined): SObjectDef => {
  const object = type === undefined ? undefined : api.org.schema.object(type);
  if (!object) throw notFound();
  return object;
};

/** `?fields=Name,Industry`, or undefined for every field. */
const fieldsParam = (request: ApiRequest): string[] | undefined => {
  const fields = request.query.get('fields');
  return fields
    ? fields
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : undefined;
};

/** A record as the REST API answers it: the attributes block (with its URL even when Id was not asked for), then the fields. */
function recordResponse(
  request: ApiRequest,
  object: SObjectDef,
  id: string,
  record: Record<string, unknown>,
) {
  const url = sobjectUrl(request.apiVersion, object.name, normalizeId(id) ?? id);
  return { status: 200, body: { attributes: { type: object.name, url }, ...record } };
}

/** Several records share the external id: 300 with their URLs, nothing done. */
const multipleChoices = (request: ApiRequest, object: SObjectDef, ids: string[]): ApiResponse => ({
  status: 300,
  body: ids.map((id) => sobjectUrl(request.apiVersion, object.name, id)),
});

const noContent: ApiResponse = { status: 204, body: undefined };

/** The one record an external id names: its id, or the 300 answer listing several. */
function byExternalId(request: ApiRequest, api: DataApi, object: SObjectDef, field: string, value: string) {
  const matches = api.org.store.findByExternalId(object.name, field, value);
  if (matches.length > 1) {
    return {
      several: multipleChoices(
        request,
        object,
        matches.map((r) => r.Id as string),
      ),
    } as const;
  }
  const id = matches[0]?.Id as string | undefined;
  if (!id) throw notFound();
  return { id } as const;
}

export const sobjectRoutes: DataRoute[] = [
  {
    method: 'GET',
    pattern: '/sobjects',
    handler: (request, _params, api) => ({ status: 200, body: api.org.describeGlobal(request.apiVersion) }),
  },
  {
    method: 'GET',
    pattern: '/sobjects/:type',
    handler: (request, { type }, api) => {
      const object = objectOf(api, type);
      const summary = api.org.describeGlobal(request.apiVersion).sobjects.find((s) => s.name === object.name);
      // the simulator keeps no "recently viewed" list
      return { status: 200, body: { objectDescribe: summary, recentItems: [] } };
    },
  },
  {
    method: 'POST',
    pattern: '/sobjects/:type',
    handler: (request, { type }, api) => {
      const object = objectOf(api, type);
      const id = api.org.store.create(object.name, request.body, { userId: request.session.userId });
      return {
        status: 201,
        body: saveResult(id),
        headers: { Location: sobjectUrl(request.apiVersion, object.name, id) },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/sobjects/:type/describe',
    handler: (request, { type }, api) => ({ status: 200, body: api.org.describe(type!, request.apiVersion) }),
  },
  {
    method: 'GET',
    pattern: '/sobjects/:type/:id',
    handler: (request, { type, id }, api) => {
      const object = objectOf(api, type);
      return recordResponse(
        request,
        object,
        id!,
        api.org.store.retrieve(object.name, id!, fieldsParam(request)),
      );
    },
  },
  {
    method: 'PATCH',
    pattern: '/sobjects/:type/:id',
    handler: (request, { type, id }, api) => {
      api.org.store.update(objectOf(api, type).name, id!, request.body, { userId: request.session.userId });
      return noContent;
    },
  },
  {
    method: 'DELETE',
    pattern: '/sobjects/:type/:id',
    handler: (request, { type, id }, api) => {
      api.org.store.delete(objectOf(api, type).name, id!, { userId: request.session.userId });
      return noContent;
    },
  },
  {
    method: 'GET',
    pattern: '/sobjects/:type/:field/:value',
    handler: (request, { type, field, value }, api) => {
      const object = objectOf(api, type);
      const found = byExternalId(request, api, object, field!, value!);
      if (found.several) return found.several;
      const id = found.id;
      return recordResponse(
        request,
        object,
        id,
        api.org.store.retrieve(object.name, id, fieldsParam(request)),
      );
    },
  },
  {
    method: 'PATCH',
    pattern: '/sobjects/:type/:field/:value',
    handler: (request, { type, field, value }, api) => {
      const object = objectOf(api, type);
      const result = api.org.store.upsert(object.name, field!, value!, request.body ?? {}, {
        userId: request.session.userId,
      });
      return upsertResponse(object.name, result, request.apiVersion);
    },
  },
  {
    method: 'DELETE',
    pattern: '/sobjects/:type/:field/:value',
    handler: (request, { type, field, value }, api) => {
      const object = objectOf(api, type);
      const found = byExternalId(request, api, object, field!, value!);
      if (found.several) return found.several;
      api.org.store.delete(object.name, found.id, { userId: request.session.userId });
      return noContent;
    },
  },
];
