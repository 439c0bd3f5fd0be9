// Public entry of the Bpium emulator package.
export * from './emulator.js';
export { SeedError, defaultSeedFile } from './seed.js';
