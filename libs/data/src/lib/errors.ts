/**
 * Why an ImageFolder cannot be opened, as a code a caller can branch on (a CLI names its own flag,
 * a client reports `DATA`): `MISSING` (nothing at the path), `NOT_A_FOLDER`, `NO_CLASSES` (no class
 * sub-folder), `NO_IMAGES` (no image in any class), `EMPTY_CLASSES` (some classes have no image; see
 * `emptyClasses`).
 */
export type ImageFolderErrorCode = 'MISSING' | 'NOT_A_FOLDER' | 'NO_CLASSES' | 'NO_IMAGES' | 'EMPTY_CLASSES';

export class ImageFolderError extends Error {
  constructor(
    readonly code: ImageFolderErrorCode,
    /** the folder, resolved */
    readonly root: string,
    message: string,
    /** for EMPTY_CLASSES: the classes without an image */
    readonly emptyClasses: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ImageFolderError';
  }
}
