/**
 * What the simulator sends back, as plain values: an HTTP status, headers and a body already serialised, so
 * faults can rewrite an answer (cut it, replace it) before it is written. Bodies mimic Creatify's (Django REST
 * framework `{"detail": ...}` errors, Django's and nginx's HTML error pages).
 */

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = 'application/json';
const HTML_TYPE = 'text/html; charset=utf-8';

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

/** A 200 list answer from items already serialised (serialisation is cached per item). */
export function jsonArray(items: readonly string[]): Answer {
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: `[${items.join(',')}]` };
}

/** A Django REST framework error: `{"detail": message}`. */
export function detail(status: number, message: string, headers: Record<string, string> = {}): Answer {
  return json(status, { detail: message }, headers);
}

export function html(status: number, body: string): Answer {
  return { status, headers: { 'content-type': HTML_TYPE }, body };
}

// Django's stock 500 page: a real non-JSON error body for the daemon to cope with.
export const SERVER_ERROR_HTML =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n' +
  '  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n';

// nginx's stock 502 page, as a load balancer in front of the API answers while the app restarts.
export const BAD_GATEWAY_HTML =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
