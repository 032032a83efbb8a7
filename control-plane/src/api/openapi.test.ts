import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../../test/support.ts';

let cp: TestControlPlane;
beforeAll(async () => {
  cp = await startTestControlPlane();
});
afterAll(() => cp?.close());

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document generated from the validating schemas', async () => {
    const document = (await cp.anonymous.get('/openapi.json')).body;
    const result = await validate(structuredClone(document));
    expect('errors' in result ? result.errors : []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    // the request schema is the one that validates: a field it requires is the field the API requires
    const create = document.paths['/v1/orgs/{orgId}/resources'].post;
    expect(create.requestBody.required).toBe(true);
    const answered = await (await cp.newOrg('doc')).client.post('/v1/orgs', { name: 'missing slug' });
    expect(answered.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['slug']);
    expect(document.components.schemas.Error).toBeDefined();
  });
});
