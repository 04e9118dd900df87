/** One preprocessed example: `image` is CHW float32, already resized and normalised. */
export interface Example {
  label: number;
  image: Float32Array;
}

/**
 * A random-access labelled image collection. Images are decoded only when `load` asks for them, so a
 * large folder streams through bounded memory; `labels` is kept in memory because partitioners need it.
 */
export interface Dataset {
  /** Class names; label i names classes[i]. */
  classes: string[];
  size: number;
  /** labels[i] is the label of example i (length `size`). */
  labels: Int32Array;
  /** Examples at `indices`, in that order: x is NCHW float32, y their labels. */
  load(indices: number[]): Promise<{ x: Float32Array; y: Int32Array }>;
}

/**
 * Decoded 8-bit pixels, interleaved row-major. channels: 1 = grey (PIL "L"), 2 = grey + alpha ("LA"),
 * 3 = RGB, 4 = RGBA.
 */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** A labelled raw image, as written by writeImageFolder(). `name` is the file stem (default: its index). */
export interface RawExample {
  label: number;
  image: RawImage;
  name?: string;
}
