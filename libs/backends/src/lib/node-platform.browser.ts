// The browser twin of node-platform.ts (tools/build-pages.cjs picks it for pages): a page gets WebGPU
// from the browser itself and the wasm binaries from the URL the page sets, so both hooks do nothing.

/** No Dawn in a browser: navigator.gpu is the browser's own. */
export function installNodeWebGpu(): boolean {
  return false;
}

/** Pages set their own wasm paths. */
export function nodeWasmDir(): string | undefined {
  return undefined;
}
