// What the browser pages take from @tensorflow/tfjs (tools/build-pages.cjs aliases the union package
// to this file): tfjs-core with its gradients and chained ops, and the cpu and webgl backends. The
// union's layers, converter and data packages (about half its size) are not used by fedsnell.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-backend-cpu';
export * from '@tensorflow/tfjs-backend-webgl';
