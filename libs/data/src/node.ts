export { decodeImage } from './node/decode';
export { openImageFolder, type ImageFolderDataset, type ImageFolderOptions } from './node/image-folder';
export { encodePng, writeImageFolder } from './node/write-image-folder';
export {
  clearMnistCache,
  exportImageFolder,
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  mnistDataset,
  mnistFolderNames,
  readMnistClass,
  type ExportOptions,
  type ExportResult,
  type MnistDatasetOptions,
  type MnistSet,
} from './node/mnist';
