// jest runs each test file in a separate VM context, so a Float32Array made in a test is not an
// instance of Node's Float32Array. Binary codecs (msgpackr, Buffer) and tfjs check `instanceof`
// against the outer realm; sharing the typed-array constructors makes both realms agree.
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Uint8Array', 'Uint8ClampedArray', 'Int8Array',
  'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array',
  'BigInt64Array', 'BigUint64Array', 'TextEncoder', 'TextDecoder',
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;
