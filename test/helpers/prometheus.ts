import { createRequire } from 'node:module';

/** Samples and families as parse-prometheus-text-format returns them: a real exposition parser for tests. */
export interface Sample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
export interface Family {
  name: string;
  type: string;
  metrics: Sample[];
}

// The parser ships no types and is CommonJS; require keeps the tests free of a separate declaration file.
export const parseExposition = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

export function family(families: Family[], name: string): Family {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric family ${name} in the exposition`);
  return found;
}

/** The samples of a family; [] when the family has no series at all (the parser may omit it). */
export function samples(families: Family[], name: string): Sample[] {
  return families.find((f) => f.name === name)?.metrics ?? [];
}

export function valueOf(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const sample = samples(families, name).find((s) => sameLabels(s.labels ?? {}, labels));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

export function labelSets(families: Family[], name: string): Array<Record<string, string>> {
  return samples(families, name).map((s) => s.labels ?? {});
}
