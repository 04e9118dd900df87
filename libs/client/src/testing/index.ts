// `@fedsnell/client/testing`: a protocol-speaking fake coordinator (real socket.io and HTTP on
// 127.0.0.1) for the specs of any client shell. Node only; never part of a client bundle.
export { FakeCoordinator, waitFor, type FakeCoordinatorOptions, type RecordedPacket } from './fake-coordinator';
export { serveBytes } from './serve-bytes';
