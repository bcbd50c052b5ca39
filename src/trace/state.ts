// A JSON view of the kernel state for visualisation and other tools: guest_memfd files page by page, memslots,
// SPTEs, invalidation counters, memory attributes and host mappings. Taken after trace events.

import { KVM_MEMSLOT_GMEM_ONLY, KVM_MEMSLOT_INVALID } from '../kernel/kvm/kvm_host.js';
import type { Kernel } from '../kernel/machine.js';
import { PAGE_SIZE, PG_dirty, PG_hwpoison, PG_lru, PG_uptodate } from '../kernel/mm/mm_types.js';

export interface PageState {
  readonly index: number;
  readonly pfn: number;
  /** uptodate, dirty, lru, hwpoison */
  readonly flags: string[];
  readonly corrupt: boolean;
  readonly refcount: number;
  /** host virtual addresses mapping it */
  readonly hostMapped: number[];
  /** "vm:gfn" of SPTEs mapping its pfn */
  readonly sptes: string[];
}

export interface FileState {
  readonly ino: number;
  readonly kind: string;
  readonly size: number;
  readonly flags: number;
  readonly pages: PageState[];
  /** bindings: [start, end) of file indices to slot ids, per VM */
  readonly bindings: Array<{ vm: number; start: number; end: number; slot: number }>;
}

export interface VmState {
  readonly id: number;
  readonly type: number;
  readonly memslots: Array<{
    as_id: number;
    id: number;
    base_gfn: number;
    npages: number;
    flags: string[];
    userspace_addr: number;
    gmem: { ino: number; pgoff: number } | null;
  }>;
  readonly sptes: Array<{ as_id: number; gfn: number; pfn: number; writable: boolean; private: boolean }>;
  readonly invalidation: { seq: number; in_progress: number; range_start: number; range_end: number };
  /** runs of equal attributes: [start gfn, end gfn) → attributes */
  readonly attributes: Array<{ start: number; end: number; attributes: number }>;
  readonly dead: boolean;
}

export interface LockState {
  readonly name: string;
  readonly owner: number;
  readonly readers: number[];
}

export interface KernelState {
  readonly files: FileState[];
  readonly vms: VmState[];
  readonly locks: LockState[];
  readonly poisonedPages: number;
  readonly mfStats: { total: number; ignored: number; failed: number; delayed: number; recovered: number };
}

const FLAG_NAMES: Array<[number, string]> = [
  [PG_uptodate, 'uptodate'],
  [PG_dirty, 'dirty'],
  [PG_lru, 'lru'],
  [PG_hwpoison, 'hwpoison'],
];

export function snapshotKernel(k: Kernel): KernelState {
  const hostMaps = new Map<number, number[]>();
  for (const p of k.procs) {
    for (const [vpn, pte] of p.mm.pt) {
      if (pte.kind !== 'present') continue;
      const l = hostMaps.get(pte.folio.pfn) ?? [];
      l.push(vpn * PAGE_SIZE);
      hostMaps.set(pte.folio.pfn, l);
    }
  }
  const spteMaps = new Map<number, string[]>();
  const vms: VmState[] = k.vms
    .filter((v) => !v.destroyed)
    .map((v) => {
      const sptes: VmState['sptes'] = [];
      v.sptes.forEach((t, as_id) => {
        for (const [gfn, s] of t) {
          sptes.push({ as_id, gfn, pfn: s.pfn, writable: s.writable, private: s.private });
          const l = spteMaps.get(s.pfn) ?? [];
          l.push(`${v.id}:${gfn.toString(16)}`);
          spteMaps.set(s.pfn, l);
        }
      });
      const attributes: VmState['attributes'] = v.mem_attr_array.runs.map((r) => ({
        start: r.start,
        end: r.end,
        attributes: r.value,
      }));
      return {
        id: v.id,
        type: v.type,
        memslots: v.memslots.flatMap((m) =>
          [...m.values()].map((s) => ({
            as_id: s.as_id,
            id: s.id,
            base_gfn: s.base_gfn,
            npages: s.npages,
            flags: [
              ...(s.flags & 4 ? ['GUEST_MEMFD'] : []),
              ...(s.flags & KVM_MEMSLOT_GMEM_ONLY ? ['GMEM_ONLY'] : []),
              ...(s.flags & KVM_MEMSLOT_INVALID ? ['INVALID'] : []),
            ],
            userspace_addr: s.userspace_addr,
            gmem: s.gmem.file ? { ino: s.gmem.file.inode!.ino, pgoff: s.gmem.pgoff } : null,
          })),
        ),
        sptes,
        invalidation: {
          seq: v.mmu_invalidate_seq,
          in_progress: v.mmu_invalidate_in_progress,
          range_start: v.mmu_invalidate_range_start,
          range_end: v.mmu_invalidate_range_end,
        },
        attributes,
        dead: v.vm_dead,
      };
    });
  const inodes = new Map<number, import('../kernel/mm/mm_types.js').Inode>();
  for (const p of k.procs) {
    for (const f of p.files.fds.values()) if (f.inode) inodes.set(f.inode.ino, f.inode);
    for (const vma of p.mm.vmas) if (vma.vm_file?.inode) inodes.set(vma.vm_file.inode.ino, vma.vm_file.inode);
  }
  for (const v of k.vms)
    for (const m of v.memslots)
      for (const s of m.values()) if (s.gmem.file?.inode) inodes.set(s.gmem.file.inode.ino, s.gmem.file.inode);
  const files: FileState[] = [...inodes.values()]
    .filter((i) => i.kind === 'guest_memfd')
    .sort((a, b) => a.ino - b.ino)
    .map((i) => ({
      ino: i.ino,
      kind: i.kind,
      size: i.i_size,
      flags: i.gmem?.flags ?? 0,
      pages: [...i.mapping.pages.values()]
        .sort((a, b) => a.index - b.index)
        .map((f) => ({
          index: f.index,
          pfn: f.pfn,
          flags: FLAG_NAMES.filter(([b]) => f.flags & b).map(([, n]) => n),
          corrupt: f.corrupt,
          refcount: f.refcount,
          hostMapped: hostMaps.get(f.pfn) ?? [],
          sptes: spteMaps.get(f.pfn) ?? [],
        })),
      bindings: (i.gmem?.files ?? []).flatMap((file) => {
        const gf = file.private_data as {
          kvm: { id: number };
          bindings: Array<{ start: number; end: number; slot: { id: number } }>;
        };
        return gf.bindings.map((b) => ({ vm: gf.kvm.id, start: b.start, end: b.end, slot: b.slot.id }));
      }),
    }));
  const locks: LockState[] = [];
  const addLock = (l: { name: string; owner: number; readers: number[] }) => {
    if (l.owner || l.readers.length) locks.push({ name: l.name, owner: l.owner, readers: [...l.readers] });
  };
  addLock(k.mf_mutex);
  for (const v of k.vms) [v.slots_lock, v.slots_arch_lock, v.mmu_lock].forEach(addLock);
  for (const i of inodes.values()) addLock(i.mapping.invalidate_lock);
  return { files, vms, locks, poisonedPages: k.num_poisoned_pages, mfStats: { ...k.mf_stats } };
}
