/**
 * Creatify's API-key check: with credentials configured, a request needs both `X-API-ID` and `X-API-KEY`
 * matching, else 401 with the message Django REST framework gives. Without credentials every request passes.
 */
import type http from 'node:http';
import { detail, type Answer } from './answers.js';

export interface Credentials {
  apiId: string;
  apiKey: string;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The 401 answer for a request that fails the check, or null when it passes. */
export function checkAuth(headers: http.IncomingHttpHeaders, credentials: Credentials | null): Answer | null {
  if (credentials === null) return null;
  const gotId = headerValue(headers['x-api-id']);
  const gotKey = headerValue(headers['x-api-key']);
  if (gotId === undefined || gotKey === undefined) return detail(401, 'Authentication credentials were not provided.');
  if (gotId !== credentials.apiId || gotKey !== credentials.apiKey) return detail(401, 'Invalid API credentials.');
  return null;
}
