// Where the child-process entry is, for the harness to spawn (`node <faultProxyEntry> --port 0`).
import { fileURLToPath } from 'node:url';

/** Path of child.ts: run it with this process's node. */
export const faultProxyEntry = fileURLToPath(new URL('./child.ts', import.meta.url));
