// A deliberately Node-only entry: the browser-bundle spec checks that it is refused.
export { readFileSync } from 'node:fs';
