import { readFileSync } from 'node:fs';

let cachedVersion: string | undefined;

/** The package version from package.json, read once (one source of truth for user agents and --version). */
export function packageVersion(): string {
  if (cachedVersion === undefined) {
    try {
      // src/ and dist/ are both one level below package.json.
      const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
      const version = typeof pkg === 'object' && pkg !== null && 'version' in pkg ? pkg.version : undefined;
      cachedVersion = typeof version === 'string' ? version : 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}
