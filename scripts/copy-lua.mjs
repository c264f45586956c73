// tsc does not copy non-TS assets; the Lua scripts are loaded at run time from beside the compiled module.
import { cpSync } from 'node:fs';
cpSync('src/store/lua', 'dist/store/lua', { recursive: true });
