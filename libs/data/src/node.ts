export { decodeImage } from './node/decode';
export { openImageFolder, type ImageFolderDataset, type ImageFolderOptions } from './node/image-folder';
export { encodePng, writeImageFolder } from './node/write-image-folder';
export {
  clearMnistCache,
  exportImageFolder,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_TEST_PER_CLASS,
  MNIST_CLASSES,
  mnistDataset,
  mnistFolderNames,
  readMnistClass,
  skippedMnistEntries,
  type ExportOptions,
  type ExportResult,
  type MnistDatasetOptions,
  type MnistPart,
  type MnistSet,
} from './node/mnist';
