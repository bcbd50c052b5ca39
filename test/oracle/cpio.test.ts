import { describe, expect, it } from 'vitest';
import { cpioArchive } from '../../src/oracle/cpio.js';
import { moduleDepends } from '../../src/oracle/initramfs.js';
import { namesHeader } from '../../src/oracle/runner-build.js';

/** Reads a newc archive back: name, mode and data of each record. */
function parseNewc(buf: Buffer): { name: string; mode: number; data: string }[] {
  const out = [];
  let off = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(buf.toString('latin1', off, off + 6)).toBe('070701');
    const field = (i: number) => Number.parseInt(buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameLen = field(11);
    const name = buf.toString('latin1', off + 110, off + 110 + nameLen - 1);
    const dataStart = align(off + 110 + nameLen);
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode, data: buf.toString('latin1', dataStart, dataStart + size) });
    off = align(dataStart + size);
  }
}

describe('initramfs pieces', () => {
  it('writes newc records the kernel can unpack, 4-byte aligned, ending with the trailer', () => {
    const a = cpioArchive([
      { kind: 'dir', name: 'bin' },
      { kind: 'file', name: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'symlink', name: 'bin/sh', target: 'busybox' },
    ]);
    expect(a.length % 4).toBe(0);
    expect(parseNewc(a)).toEqual([
      { name: 'bin', mode: 0o040755, data: '' },
      { name: 'init', mode: 0o100755, data: '#!/bin/sh\n' },
      { name: 'bin/sh', mode: 0o120777, data: 'busybox' },
    ]);
  });

  it('reads module dependencies from .modinfo', () => {
    const ko = Buffer.from('\x7fELF....\0license=GPL\0depends=kvm,ccp\0vermagic=7.3.4\0');
    expect(moduleDepends(ko)).toEqual(['kvm', 'ccp']);
    expect(moduleDepends(Buffer.from('\0depends=\0'))).toEqual([]);
  });

  it('generates the runner name tables from the model uAPI tables', () => {
    const h = namesHeader();
    expect(h).toContain('{133LL, "EHWPOISON"}');
    expect(h).toContain('{39LL, "KVM_EXIT_MEMORY_FAULT"}');
    expect(h).toContain('{8LL, "KVM_MEMORY_EXIT_FLAG_PRIVATE"}');
    expect(h).toContain('{4LL, "BUS_MCEERR_AR"}');
  });
});
