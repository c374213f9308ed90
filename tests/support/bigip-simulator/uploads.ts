/**
 * File uploads (`reference/bigip-icontrol.md` §2): `POST /mgmt/shared/file-transfer/uploads/<file>` with
 * `Content-Range: <start>-<end>/<total>` (end inclusive, no `bytes ` prefix), chunks of at most 1 MiB,
 * assembled per file name; the file appears in `state.uploads` once every byte has arrived. A chunk at
 * offset 0 starts the file over (clients retry from 0). Also `util unix-rm` to remove an uploaded file.
 */
import { ok, type RouteDef, type SimCore } from './context.ts';
import { sharedError, tmError } from './errors.ts';
import { DOWNLOADS_DIR } from './paths.ts';

export const MAX_CHUNK_BYTES = 1024 * 1024;

interface PendingUpload {
  total: number;
  content: Buffer;
  /** Received [start, endExclusive) ranges, merged. */
  ranges: [number, number][];
  usedChunks: Record<string, number>;
}

function merge(ranges: [number, number][], add: [number, number]): [number, number][] {
  const all = [...ranges, add].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function covered(ranges: [number, number][]): number {
  return ranges.reduce((n, [a, b]) => n + (b - a), 0);
}

function fileNameOf(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = '';
  }
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw sharedError(400, `Invalid file name for upload: ${raw}`);
  }
  return name;
}

export class Uploads {
  private readonly pending = new Map<string, PendingUpload>();

  constructor(private readonly core: SimCore) {}

  /** Forget a half-finished upload (unix-rm of its path). */
  discard(fileName: string): void {
    this.pending.delete(fileName);
  }

  routes(): RouteDef[] {
    return [
      {
        pattern: /^\/mgmt\/shared\/file-transfer\/uploads\/([^/]+)$/,
        area: 'shared',
        methods: {
          POST: {
            step: 'upload',
            rawBody: true,
            handle: (ctx) => ok(this.chunk(fileNameOf(ctx.params[0]!), ctx.headers['content-range'], ctx.raw)),
          },
        },
      },
      {
        pattern: /^\/mgmt\/tm\/util\/unix-rm$/,
        area: 'tm',
        methods: { POST: { step: 'unix-rm', handle: (ctx) => ok(this.unixRm(ctx.body)) } },
      },
    ];
  }

  private chunk(fileName: string, rangeHeader: string | undefined, body: Buffer): Record<string, unknown> {
    const match = /^(\d+)-(\d+)\/(\d+)$/.exec((rangeHeader ?? '').trim());
    if (!match) throw sharedError(400, `Invalid Content-Range header: ${JSON.stringify(rangeHeader ?? '')}`);
    const start = Number(match[1]);
    const end = Number(match[2]);
    const total = Number(match[3]);
    if (start > end || end >= total || !Number.isSafeInteger(total)) {
      throw sharedError(400, `Invalid Content-Range header: ${JSON.stringify(rangeHeader)}`);
    }
    if (body.length > MAX_CHUNK_BYTES) {
      throw sharedError(
        400,
        `Chunk of ${body.length} bytes exceeds the maximum chunk size of ${MAX_CHUNK_BYTES} bytes.`,
      );
    }
    if (body.length !== end - start + 1) {
      throw sharedError(400, `Content-Range ${rangeHeader} does not match the ${body.length} bytes received.`);
    }

    let upload = this.pending.get(fileName);
    if (start === 0 || !upload) {
      upload = { total, content: Buffer.alloc(total), ranges: [], usedChunks: {} };
      this.pending.set(fileName, upload);
    } else if (upload.total !== total) {
      throw sharedError(
        400,
        `Content-Range total ${total} differs from the upload in progress (${upload.total} bytes).`,
      );
    }
    body.copy(upload.content, start);
    upload.ranges = merge(upload.ranges, [start, end + 1]);
    upload.usedChunks[String(start)] = body.length;
    const remaining = total - covered(upload.ranges);
    if (remaining === 0) {
      this.core.state.uploads.set(fileName, upload.content);
      this.pending.delete(fileName);
    }
    return {
      remainingByteCount: remaining,
      usedChunks: { ...upload.usedChunks },
      totalByteCount: total,
      localFilePath: `${DOWNLOADS_DIR}${fileName}`,
      temporaryFilePath: `${DOWNLOADS_DIR}tmp/${fileName}`,
      generation: 0,
      lastUpdateMicros: this.core.now().getTime() * 1000,
    };
  }

  private unixRm(body: Record<string, unknown>): Record<string, unknown> {
    if (body['command'] !== 'run') throw tmError(400, `"command" must be "run" for util unix-rm`, 1);
    const args = typeof body['utilCmdArgs'] === 'string' ? body['utilCmdArgs'] : '';
    const words = args.split(/\s+/).filter((w) => w !== '');
    const force = words.some((w) => /^-[a-zA-Z]*f/.test(w));
    const files = words.filter((w) => !w.startsWith('-'));
    let result = '';
    if (files.length === 0) result = "/bin/rm: missing operand\nTry '/bin/rm --help' for more information.\n";
    for (const file of files) {
      const name = file.startsWith(DOWNLOADS_DIR) ? file.slice(DOWNLOADS_DIR.length) : null;
      if (name !== null && name !== '' && !name.includes('/') && this.core.state.uploads.delete(name)) {
        this.discard(name);
        continue;
      }
      if (name !== null) this.discard(name);
      if (!force) result += `/bin/rm: cannot remove '${file}': No such file or directory\n`;
    }
    return {
      kind: 'tm:util:unix-rm:runstate',
      command: 'run',
      utilCmdArgs: args,
      ...(result === '' ? {} : { commandResult: result }),
    };
  }
}
