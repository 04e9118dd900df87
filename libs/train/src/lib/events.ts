/** Progress of local training, one event per optimizer step (for CLIs, pages and the wire). */
export interface TrainProgress {
  epoch: number;
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  examplesPerSecond: number;
}

export interface TrainMetrics {
  /** mean training loss over the examples seen */
  loss: number;
  /** training accuracy over the examples seen (dropout active) */
  accuracy: number;
  examples: number;
  steps: number;
  seconds: number;
  examplesPerSecond: number;
}
