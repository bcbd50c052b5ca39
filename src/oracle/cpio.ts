// The "newc" cpio format the kernel unpacks as initramfs. Several archives may be concatenated; the kernel unpacks
// them in order, which lets a run append its input to a cached base image.

export type CpioEntry =
  | { readonly kind: 'dir'; readonly name: string }
  | { readonly kind: 'file'; readonly name: string; readonly data: Buffer; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly name: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(ino: number, mode: number, size: number, nameLen: number): string {
  const f = (v: number) => v.toString(16).padStart(8, '0');
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return `070701${f(ino)}${f(mode)}${f(0)}${f(0)}${f(1)}${f(0)}${f(size)}${f(0)}${f(0)}${f(0)}${f(0)}${f(nameLen)}${f(0)}`;
}

function record(ino: number, name: string, mode: number, data: Buffer): Buffer {
  const nameBuf = Buffer.from(`${name}\0`);
  const head = Buffer.from(header(ino, mode, data.length, nameBuf.length));
  return Buffer.concat([
    head,
    nameBuf,
    Buffer.alloc(pad4(head.length + nameBuf.length)),
    data,
    Buffer.alloc(pad4(data.length)),
  ]);
}

function modeOf(e: CpioEntry): number {
  if (e.kind === 'dir') return S_IFDIR | 0o755;
  if (e.kind === 'symlink') return S_IFLNK | 0o777;
  return S_IFREG | (e.mode ?? 0o644);
}

function dataOf(e: CpioEntry): Buffer {
  if (e.kind === 'file') return e.data;
  return e.kind === 'symlink' ? Buffer.from(e.target) : Buffer.alloc(0);
}

/** One archive, ending with its TRAILER!!! record. Timestamps are 0 so equal inputs give equal bytes. */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts = entries.map((e, i) => record(i + 1, e.name, modeOf(e), dataOf(e)));
  parts.push(record(0, 'TRAILER!!!', 0, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
