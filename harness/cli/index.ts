// The command line's public surface: the `planewright` bin (bin/planewright.mjs) runs `main`.
export { main } from './main.ts';
export { type UpOptions, up } from './up.ts';
