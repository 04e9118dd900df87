// Bootstrap of a simulation training thread: the sources are TypeScript with workspace aliases, so load
// them through tsx with the repository's tsconfig.base.json (as bin/fedsnell.cjs does). The package
// build compiles sim-worker-main.ts to dist/cli/sim-worker-entry.cjs instead.
'use strict';
const path = require('node:path');

if (!process.env.TSX_TSCONFIG_PATH) {
  process.env.TSX_TSCONFIG_PATH = path.resolve(__dirname, '../../../../tsconfig.base.json');
}
require('tsx/cjs');
require(path.join(__dirname, 'sim-worker-main.ts'));
