import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { createRng } from '@fedsnell/snell';
import { resolveVitConfig, VisionTransformer } from '@fedsnell/vit';
import { crossEntropyGradients } from '../gradients';
import type { FromWorker, InitMessage, ResultMessage, StepMessage, ToWorker } from './messages';
import { unpackBackbone } from './slices';

/**
 * What runs inside one worker: holds the frozen backbone and persistent variables for the
 * trainables; per step it loads the sent values and returns the gradients of the mean
 * cross-entropy over its slice (crossEntropyGradients, the loss every gradient source
 * differentiates). Transport-free, so it is testable in one thread; worker-main.ts connects it to
 * a port.
 */
export class GradientWorker {
  private model?: VisionTransformer;
  private init?: InitMessage;
  private variables: tf.Variable[] = [];

  async handle(msg: ToWorker): Promise<FromWorker | undefined> {
    try {
      if (msg.type === 'init') return await this.start(msg);
      if (msg.type === 'step') return this.step(msg);
      this.dispose();
      return undefined;
    } catch (err) {
      return { type: 'error', id: msg.type === 'step' ? msg.id : undefined, message: err instanceof Error ? err.message : String(err) };
    }
  }

  private async start(msg: InitMessage): Promise<FromWorker> {
    if (this.model) throw new Error('GradientWorker.handle(): init received twice');
    const backend = await useBackend(msg.backend);
    const config = resolveVitConfig(msg.backbone.configJson);
    this.model = VisionTransformer.fromTensors(config, unpackBackbone(msg.backbone));
    this.variables = msg.trainables.map((t) => tf.variable(tf.zeros(t.shape), true));
    this.init = msg;
    return { type: 'ready', backend };
  }

  private step(msg: StepMessage): ResultMessage {
    const { model, init, variables } = this;
    if (!model || !init) throw new Error('GradientWorker.handle(): step received before init');
    if (msg.trainables.length !== variables.length) {
      throw new Error(`GradientWorker.handle(): step carries ${msg.trainables.length} trainables but init declared ${variables.length}`);
    }
    const [h, w] = model.config.imgSize;
    if (msg.x.length !== msg.n * 3 * h * w || msg.y.length !== msg.n) {
      throw new Error(`GradientWorker.handle(): step batch of ${msg.n} needs ${msg.n * 3 * h * w} pixels and ${msg.n} labels but got ${msg.x.length} and ${msg.y.length}`);
    }
    msg.trainables.forEach((data, i) => {
      const t = tf.tensor(data, init.trainables[i].shape);
      variables[i].assign(t);
      t.dispose();
    });
    const named = new Map(init.trainables.map((t, i) => [t.name, variables[i]]));
    const { grads, loss, hits } = crossEntropyGradients(model, named, msg, init.numClasses, {
      snell: init.snell && msg.sparsity !== undefined ? { ...init.snell, sparsity: msg.sparsity } : init.snell,
      training: true,
      adapterDropout: init.adapterDropout,
      dropPath: init.dropPath,
      rng: createRng(msg.seed),
      checkpoint: init.checkpoint,
    }, init.logitOffsets);
    try {
      // A trainable the loss does not reach (e.g. unused factors) has no gradient: send zeros.
      const out = init.trainables.map((t, i) => {
        const g = grads[t.name];
        return g ? (g.dataSync() as Float32Array).slice() : new Float32Array(variables[i].size);
      });
      return { type: 'result', id: msg.id, grads: out, loss: loss.dataSync()[0], hits: hits.dataSync()[0], n: msg.n };
    } finally {
      tf.dispose([grads, loss, hits]);
    }
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
    for (const v of this.variables) v.dispose();
    this.variables = [];
  }
}
