/**
 * Uploading a file to the device's upload directory over iControl REST: the file is sent in chunks with
 * `Content-Range`, and a failed chunk means the whole file is sent again from offset 0, once.
 */
import type { BigIpClient } from '../ports/bigip-client.ts';
import { CoreError } from '../errors.ts';
import { isBigIpError } from './bigip-error.ts';
import { UPLOAD_DIR, assertUploadName } from './icontrol-records.ts';
import type { Call } from './icontrol-session.ts';

/** The largest upload chunk the SDKs send (f5-common-python, go-bigip). */
export const UPLOAD_CHUNK_BYTES = 512 * 1024;

/** The client's `upload`; `chunkBytes` (default {@link UPLOAD_CHUNK_BYTES}) is checked once, here. */
export function createUploader(
  call: (c: Call) => Promise<unknown>,
  chunkBytes: number = UPLOAD_CHUNK_BYTES,
): BigIpClient['upload'] {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes > UPLOAD_CHUNK_BYTES) {
    throw new CoreError(
      'config_invalid',
      `upload chunk size must be 1 to ${UPLOAD_CHUNK_BYTES} bytes, got ${chunkBytes}`,
    );
  }

  async function uploadOnce(fileName: string, content: Buffer): Promise<void> {
    const path = `/mgmt/shared/file-transfer/uploads/${fileName}`;
    const total = content.length;
    for (let start = 0; start < total; start += chunkBytes) {
      const end = Math.min(start + chunkBytes, total) - 1;
      await call({
        method: 'POST',
        path,
        action: `upload ${fileName} (bytes ${start}-${end} of ${total})`,
        raw: content.subarray(start, end + 1),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${start}-${end}/${total}` },
        quoteBody: false,
      });
    }
  }

  return async function upload(fileName, content) {
    assertUploadName(fileName);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (bytes.length === 0) throw new CoreError('input_invalid', `upload ${fileName}: the file is empty`);
    try {
      await uploadOnce(fileName, bytes);
    } catch (err) {
      // A chunk failed: the device's partial file is unusable, so send the whole file again from offset 0, once.
      if (!isBigIpError(err) || err.code === 'bigip_auth') throw err;
      await uploadOnce(fileName, bytes);
    }
    return `${UPLOAD_DIR}${fileName}`;
  };
}
