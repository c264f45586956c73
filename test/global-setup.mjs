// CLI tests spawn the built binary, so build once before any test file runs.
import { execSync } from 'node:child_process';

export default function globalSetup() {
  execSync('npm run build --silent', { stdio: 'inherit' });
}
