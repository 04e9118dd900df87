import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers GET with `bytes`, honouring one `Range: bytes=a-` or `bytes=a-b` (enough for the client's resume). */
export function serveBytes(bytes: Uint8Array, req: IncomingMessage, res: ServerResponse): void {
  const size = bytes.byteLength;
  const match = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!match) {
    res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' });
    return void res.end(bytes);
  }
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size || start > end) {
    res.writeHead(416, { 'Content-Range': `bytes */${size}` });
    return void res.end();
  }
  res.writeHead(206, { 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Type': 'application/octet-stream' });
  res.end(bytes.subarray(start, end + 1));
}
