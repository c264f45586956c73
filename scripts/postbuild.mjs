// After tsc: copy the Lua scripts (loaded at run time from beside the compiled module; tsc copies only TS)
// and make the CLI entry executable so `./dist/cli/main.js` works like the installed `lipsync-sync` bin.
import { chmodSync, cpSync } from 'node:fs';

cpSync('src/store/lua', 'dist/store/lua', { recursive: true });
chmodSync('dist/cli/main.js', 0o755);
