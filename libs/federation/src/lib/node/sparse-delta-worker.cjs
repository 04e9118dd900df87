// Bootstrap of a sparse-delta worker thread: the sources are TypeScript with workspace aliases, so
// load them through tsx with the repository's tsconfig.base.json (as bin/fedsnell.cjs does).
'use strict';
const path = require('node:path');

if (!process.env.TSX_TSCONFIG_PATH) {
  process.env.TSX_TSCONFIG_PATH = path.resolve(__dirname, '../../../../../tsconfig.base.json');
}
require('tsx/cjs');
require(path.join(__dirname, 'sparse-delta-worker-main.ts'));
