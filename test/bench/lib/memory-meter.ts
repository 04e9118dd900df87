import * as tf from '@tensorflow/tfjs';

/**
 * Peak tensor memory, sampled at every tensor the engine registers. Two numbers:
 * - `numBytes`: tf.memory().numBytes, which counts every tensor handle, so a reshape or a tensor
 *   saved for the gradient (a clone sharing the same buffer) is counted again;
 * - `bufferBytes`: bytes of distinct data buffers alive (what the backend actually holds).
 * Installed by patching the engine's public trackTensor/removeDataId before any tensor exists.
 */
export class MemoryMeter {
  bufferBytes = 0;
  peakBufferBytes = 0;
  peakNumBytes = 0;

  install(): void {
    const engine = tf.engine();
    const track = engine.trackTensor.bind(engine);
    const remove = engine.removeDataId.bind(engine);
    engine.trackTensor = (a, backend) => {
      const fresh = !engine.state.tensorInfo.has(a.dataId);
      track(a, backend);
      if (fresh) {
        this.bufferBytes += engine.state.tensorInfo.get(a.dataId)?.bytes ?? 0;
        if (this.bufferBytes > this.peakBufferBytes) this.peakBufferBytes = this.bufferBytes;
      }
      if (engine.state.numBytes > this.peakNumBytes) this.peakNumBytes = engine.state.numBytes;
    };
    engine.removeDataId = (dataId, backend) => {
      const info = engine.state.tensorInfo.get(dataId);
      if (info && info.backend === backend) this.bufferBytes -= info.bytes;
      remove(dataId, backend);
    };
  }

  /** Starts a new peak window at the current level. */
  reset(): void {
    this.peakBufferBytes = this.bufferBytes;
    this.peakNumBytes = tf.engine().state.numBytes;
  }
}

export const meter = new MemoryMeter();
