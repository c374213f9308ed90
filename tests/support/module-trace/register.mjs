// Loaded with `node --import` (through NODE_OPTIONS): registers hooks that append every module URL the process
// resolves to the file named by MODULE_TRACE_FILE, so a test can say what a command did not load.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
