// The seeded PRNG every random choice in fedsnell takes (factor init, dropout, drop-path), under the
// name this library has always exported.
export { mulberry32 as createRng } from '@fedsnell/util';
