import { listPickedFolder } from './picked-folder';

const picked = (...paths: string[]) => paths.map((path) => ({ path, file: new File([new Uint8Array(1)], path.split('/').pop() ?? path) }));

describe('listPickedFolder', () => {
  it("orders classes and images as torchvision's ImageFolder does (folders by path, files by name, code-unit order)", () => {
    const listed = listPickedFolder(picked('b/z.png', 'a/y.jpg', 'b/sub/a.png', 'B/x.JPEG', 'a/x.png', 'b/m.jpeg'));
    expect(listed.classes).toEqual(['B', 'a', 'b']);
    expect(listed.files.map((f) => [f.path, f.label])).toEqual([
      ['B/x.JPEG', 0],
      ['a/x.png', 1],
      ['a/y.jpg', 1],
      ['b/m.jpeg', 2],
      ['b/z.png', 2],
      ['b/sub/a.png', 2],
    ]);
    expect(listed.skipped).toEqual([]);
  });

  it('skips hidden files and folders silently and reports files that are not images or not in a class folder', () => {
    const listed = listPickedFolder(picked('.git/x.png', 'a/.DS_Store', 'a/.hidden/b.png', 'a/ok.png', 'a/notes.txt', 'readme.png'));
    expect(listed.classes).toEqual(['a']);
    expect(listed.files.map((f) => f.path)).toEqual(['a/ok.png']);
    expect(listed.skipped).toEqual([
      { name: 'a/notes.txt', reason: 'not a .png, .jpg or .jpeg image' },
      { name: 'readme.png', reason: 'not inside a class folder' },
    ]);
  });
});
