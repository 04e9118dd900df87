import { sha256Hex } from './sha256';

describe('sha256Hex', () => {
  it('hashes "abc" to the FIPS 180-2 vector', async () => {
    const hex = await sha256Hex(new TextEncoder().encode('abc'));
    expect(hex).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes only the view, not its whole buffer', async () => {
    const buffer = new TextEncoder().encode('xxabcxx');
    const hex = await sha256Hex(buffer.subarray(2, 5));
    expect(hex).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
