import * as tf from '@tensorflow/tfjs';

interface RefCounted {
  incRef(dataId: object): void;
}

function isRefCounted(backend: unknown): backend is RefCounted {
  return typeof backend === 'object' && backend !== null && typeof (backend as Partial<RefCounted>).incRef === 'function';
}

let shared = false;

/**
 * Makes the wasm backend's Identity share its input's buffer (one more reference) instead of copying
 * it, as the cpu backend's Identity and the wasm Reshape already do. tfjs clones every tensor a
 * gradient saves for the backward pass (and tf.clone) through Identity, so on wasm each saved
 * activation was a full copy in the heap: time, and memory held until the backward pass. Tensors
 * are immutable, so a shared buffer is indistinguishable from a copy. Idempotent; string tensors
 * (which wasm keeps outside its heap) keep the original kernel.
 */
export function shareWasmIdentity(): void {
  if (shared) return;
  const original = tf.getKernel(tf.Identity, 'wasm');
  if (!original) return;
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = args.inputs['x'];
      if (!x || x.dtype === 'string' || !isRefCounted(args.backend)) return original.kernelFunc(args);
      args.backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  shared = true;
}
