import { describe, expect, it } from '@jest/globals';
import { checkAuth } from '../../src/simulator/auth.js';

const credentials = { apiId: 'id1', apiKey: 'key1' };

describe('checkAuth', () => {
  it('passes every request when no credentials are configured', () => {
    expect(checkAuth({}, null)).toBeNull();
  });

  it('passes matching X-API-ID and X-API-KEY', () => {
    expect(checkAuth({ 'x-api-id': 'id1', 'x-api-key': 'key1' }, credentials)).toBeNull();
  });

  it('answers 401 with a detail for missing or wrong credentials', () => {
    for (const headers of [{}, { 'x-api-id': 'id1' }, { 'x-api-id': 'id1', 'x-api-key': 'nope' }]) {
      const answer = checkAuth(headers, credentials);
      expect(answer?.status).toBe(401);
      expect(JSON.parse(answer?.body ?? '{}')).toHaveProperty('detail');
    }
  });
});
