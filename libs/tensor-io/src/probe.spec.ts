import { probe } from '@fedsnell/tensor-io';
import * as tf from '@tensorflow/tfjs';
test('probe', () => { expect(probe).toBe(1); expect(new Float32Array(2) instanceof Float32Array).toBe(true); expect(tf.tensor([1,2]).shape).toEqual([2]); });
