/**
 * Every list request the simulator received, oldest first, so tests can assert what the daemon asked
 * (ids per request, headers, answer status). Bounded: beyond `max` the oldest are dropped.
 */
import type http from 'node:http';

export interface RecordedRequest {
  /** The `ids` query value split on commas as sent (not validated); null when the parameter was absent. */
  ids: string[] | null;
  at: number;
  /** The answer's status; 0 while a delayed (latencyMs) answer is still pending. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export class RequestRecorder {
  /** Read by tests; cleared in place by reset() so a held reference sees the reset. */
  readonly requests: RecordedRequest[] = [];

  constructor(private readonly max: number) {
    if (!(Number.isInteger(max) && max > 0)) throw new RangeError('maxRecordedRequests must be a positive integer');
  }

  /** Records one request and returns its entry, whose `status` the caller fills in when it answers. */
  record(idsParam: string | null, headers: http.IncomingHttpHeaders, at: number): RecordedRequest {
    const entry: RecordedRequest = {
      ids: idsParam === null ? null : idsParam === '' ? [] : idsParam.split(','),
      at,
      status: 0,
      headers: { ...headers },
    };
    this.requests.push(entry);
    // Trim in chunks (10 % slack) so the cap costs O(1) amortised per request.
    if (this.requests.length > this.max + Math.ceil(this.max / 10)) this.requests.splice(0, this.requests.length - this.max);
    return entry;
  }

  /** Ids asked for more than once among `requests` (lower-cased): what a cycle must never do. */
  idsAskedTwice(requests: readonly RecordedRequest[] = this.requests): string[] {
    const seen = new Set<string>();
    const twice = new Set<string>();
    for (const id of requests.flatMap((r) => r.ids ?? [])) {
      const key = id.toLowerCase();
      if (seen.has(key)) twice.add(key);
      seen.add(key);
    }
    return [...twice];
  }

  reset(): void {
    this.requests.length = 0;
  }
}
