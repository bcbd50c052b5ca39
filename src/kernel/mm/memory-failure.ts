// memory_failure() and friends (mm/memory-failure.c, Linux 7.3). The sequence, lock hold times, messages and
// return values follow the kernel; options.mm selects mainline or the pending "Fix MF_DELAYED handling" series.

import { trace_memory_failure_event } from '../../trace/points.js';
import { audit_error_handled, audit_mf_signal, audit_unpoisoned } from '../audit.js';
import { down_read, mutex_lock, mutex_unlock, up_read } from '../core/locking.js';
import { KernelPanic, printk } from '../core/printk.js';
import { type Ctx, type KGen, rd, wr } from '../core/sched.js';
import { kvm_gmem_error_folio, MF_DELAYED, MF_FAILED, MF_IGNORED, MF_RECOVERED } from '../kvm/guest_memfd.js';
import { FIRST_PFN, RAM_END_PFN } from '../machine.js';
import { force_sig_mceerr, send_sig_mceerr } from '../task/signal.js';
import type { Task } from '../task/task.js';
import { PF_MCE_EARLY, PF_MCE_PROCESS } from '../task/task.js';
import { constGroup } from '../uapi/consts.js';
import { EBUSY, EHWPOISON, EIO, ENXIO, EOPNOTSUPP } from '../uapi/errno.js';
import { BUS_MCEERR_AO, BUS_MCEERR_AR } from '../uapi/signal.js';
import { filemap_remove_folio, folio_lock, folio_unlock, folioKey, mapping_set_error, pcKey } from './filemap.js';
import { pteKey, vmas_mapping_index } from './memory.js';
import {
  type AddressSpace,
  type Folio,
  folioRefKey,
  PAGE_SHIFT,
  PAGE_SIZE,
  PG_dirty,
  PG_hwpoison,
  PG_lru,
  PG_mlocked,
  PG_referenced,
  PG_reserved,
  PG_swapbacked,
  PG_unevictable,
  PG_uptodate,
} from './mm_types.js';
import { folio_alloc, folio_get, folio_put } from './page_alloc.js';
import { try_to_unmap_hwpoison } from './rmap.js';

// enum mf_flags (include/linux/mm.h)
export const MF_COUNT_INCREASED = 1 << 0;
export const MF_ACTION_REQUIRED = 1 << 1;
export const MF_MUST_KILL = 1 << 2;
export const MF_SOFT_OFFLINE = 1 << 3;
export const MF_UNPOISON = 1 << 4;
export const MF_SW_SIMULATED = 1 << 5;
export const MF_NO_RETRY = 1 << 6;
export const MF_MEM_PRE_REMOVE = 1 << 7;
export const MF_FLAGS = constGroup('memory_failure flags', true, {
  MF_COUNT_INCREASED,
  MF_ACTION_REQUIRED,
  MF_MUST_KILL,
  MF_SOFT_OFFLINE,
  MF_UNPOISON,
  MF_SW_SIMULATED,
  MF_NO_RETRY,
  MF_MEM_PRE_REMOVE,
});

/** enum mf_action_page_type with its printk strings (action_page_types[]) and trace strings (MF_PAGE_TYPE). */
export const MF_MSG = {
  KERNEL: ['reserved kernel page', 'reserved kernel page'],
  GET_HWPOISON: ['get hwpoison page', 'get hwpoison page'],
  UNMAP_FAILED: ['unmapping failed page', 'unmapping failed page'],
  DIRTY_UNEVICTABLE_LRU: ['dirty unevictable LRU page', 'dirty unevictable LRU page'],
  CLEAN_UNEVICTABLE_LRU: ['clean unevictable LRU page', 'clean unevictable LRU page'],
  DIRTY_LRU: ['dirty LRU page', 'dirty LRU page'],
  CLEAN_LRU: ['clean LRU page', 'clean LRU page'],
  TRUNCATED_LRU: ['already truncated LRU page', 'already truncated LRU page'],
  BUDDY: ['free buddy page', 'free buddy page'],
  ALREADY_POISONED: ['already poisoned page', 'already poisoned'],
  UNKNOWN: ['unknown page', 'unknown page'],
} as const;
export type MfMsg = keyof typeof MF_MSG;
export const ACTION_NAME = ['Ignored', 'Failed', 'Delayed', 'Recovered'] as const;

const mfKey = 'mf:stats';

/** pr_fmt for mm/memory-failure.c */
function mf_pr(ctx: Ctx, text: string, level: 'err' | 'info' = 'err'): void {
  printk(ctx, level, `Memory failure: ${text}`);
}
const hx = (n: number) => `0x${n.toString(16)}`;

/** action_result(): trace, count (except already-poisoned), log; 0 for Recovered/Delayed, -EBUSY otherwise. */
export function* action_result(ctx: Ctx, pfn: number, type: MfMsg, result: number): KGen<number> {
  yield* wr(mfKey);
  trace_memory_failure_event(ctx, ctx.k.traits.mfTraceSystem, pfn, MF_MSG[type][1], ACTION_NAME[result]);
  if (type !== 'ALREADY_POISONED') {
    ctx.k.num_poisoned_pages++;
    const st = ctx.k.mf_stats;
    st.total++;
    if (result === MF_IGNORED) st.ignored++;
    else if (result === MF_FAILED) st.failed++;
    else if (result === MF_DELAYED) st.delayed++;
    else st.recovered++;
  }
  mf_pr(ctx, `${hx(pfn)}: recovery action for ${MF_MSG[type][0]}: ${ACTION_NAME[result]}`);
  return result === MF_RECOVERED || result === MF_DELAYED ? 0 : -EBUSY;
}

// ---------------------------------------------------------------------------------------------- killing

interface ToKill {
  readonly tsk: Task;
  readonly addr: number;
  readonly size_shift: number;
}

/** find_early_kill_thread(): the first thread with PR_MCE_KILL_EARLY, or any without a policy if the sysctl says early. */
function find_early_kill_thread(ctx: Ctx, threads: readonly Task[]): Task | null {
  for (const t of threads) {
    if (t.flags & PF_MCE_PROCESS) {
      if (t.flags & PF_MCE_EARLY) return t;
    } else if (ctx.k.sysctl.memory_failure_early_kill) {
      return t;
    }
  }
  return null;
}

/** task_early_kill(): with MF_ACTION_REQUIRED the calling thread of the calling process is always chosen. */
function task_early_kill(ctx: Ctx, threads: readonly Task[], force_early: boolean): Task | null {
  if (force_early && threads[0].proc === ctx.task.proc) return ctx.task;
  return find_early_kill_thread(ctx, threads);
}

/** collect_procs(): every process with an early-kill thread and a VMA covering the page. */
function* collect_procs(ctx: Ctx, folio: Folio, force_early: boolean): KGen<ToKill[]> {
  const out: ToKill[] = [];
  for (const proc of ctx.k.procs) {
    if (proc.killed) continue;
    const t = task_early_kill(ctx, proc.threads, force_early);
    if (!t) continue;
    if (folio.anon) {
      // collect_procs_anon(): the owning mm's PTEs
      if (proc.mm.id !== folio.anonMm) continue;
      yield* rd(`pte:${proc.mm.id}`);
      for (const [vpn, pte] of proc.mm.pt) {
        if (pte.kind === 'present' && pte.folio === folio)
          out.push({ tsk: t, addr: vpn * PAGE_SIZE, size_shift: PAGE_SHIFT });
      }
    } else {
      // collect_procs_file(): VMAs of t->mm in the file's i_mmap tree that cover the index
      for (const { vma, addr } of vmas_mapping_index(folio)) {
        if (vma.mm === proc.mm) out.push({ tsk: t, addr, size_shift: PAGE_SHIFT });
      }
    }
  }
  return out;
}

/** kill_proc(): forced BUS_MCEERR_AR to current under MF_ACTION_REQUIRED, BUS_MCEERR_AO otherwise. */
function* kill_proc(ctx: Ctx, tk: ToKill, pfn: number, flags: number): KGen<number> {
  audit_mf_signal(ctx, tk.tsk, task_maps_pfn(tk.tsk, pfn));
  mf_pr(ctx, `${hx(pfn)}: Sending SIGBUS to ${tk.tsk.comm}:${tk.tsk.tid} due to hardware memory corruption`);
  if (flags & MF_ACTION_REQUIRED && tk.tsk === ctx.task) {
    return yield* force_sig_mceerr(ctx, BUS_MCEERR_AR, tk.addr, tk.size_shift);
  }
  return yield* send_sig_mceerr(ctx, BUS_MCEERR_AO, tk.addr, tk.size_shift, tk.tsk);
}

/** Whether t's address space maps pfn: a present PTE or a hwpoison entry for it (model check only). */
export function task_maps_pfn(t: Task, pfn: number): boolean {
  for (const pte of t.proc.mm.pt.values()) {
    if ((pte.kind === 'present' ? pte.folio.pfn : pte.pfn) === pfn) return true;
  }
  return false;
}

/** kill_procs(): only when the kill is forced (dirty, MF_MUST_KILL, or unmap failure); otherwise "late kill". */
function* kill_procs(ctx: Ctx, tokill: ToKill[], forcekill: boolean, pfn: number, flags: number): KGen<void> {
  if (!forcekill) return;
  for (const tk of tokill) yield* kill_proc(ctx, tk, pfn, flags);
}

/** hwpoison_user_mappings(): unmap host PTEs (leaving hwpoison entries) and signal early-kill processes. */
function* hwpoison_user_mappings(ctx: Ctx, folio: Folio, pfn: number, flags: number): KGen<boolean> {
  yield* rd(folioKey(folio));
  if (!(folio.flags & PG_lru)) return true;
  if (folio.mapcount === 0) return true;
  const tokill = yield* collect_procs(ctx, folio, (flags & MF_ACTION_REQUIRED) !== 0);
  const unmap_success = yield* try_to_unmap_hwpoison(ctx, folio);
  if (!unmap_success) mf_pr(ctx, `${hx(pfn)}: failed to unmap page (folio mapcount=${folio.mapcount})`);
  yield* rd(folioKey(folio));
  const forcekill = (folio.flags & PG_dirty) !== 0 || (flags & MF_MUST_KILL) !== 0 || !unmap_success;
  yield* kill_procs(ctx, tokill, forcekill, pfn, flags);
  return unmap_success;
}

/** kill_accessing_process(): an already-poisoned page hit again under MF_ACTION_REQUIRED. */
function* kill_accessing_process(ctx: Ctx, pfn: number, flags: number): KGen<number> {
  const mm = ctx.task.proc.mm;
  yield* down_read(ctx, mm.mmap_lock);
  let found: number | null = null;
  yield* rd(`pte:${mm.id}`);
  for (const vma of mm.vmas) {
    for (let a = vma.vm_start; a < vma.vm_end && found === null; a += PAGE_SIZE) {
      const pte = mm.pt.get(a / PAGE_SIZE);
      if (pte && (pte.kind === 'hwpoison' ? pte.pfn : pte.folio.pfn) === pfn) found = a;
    }
    if (found !== null) break;
  }
  if (found !== null) yield* kill_proc(ctx, { tsk: ctx.task, addr: found, size_shift: PAGE_SHIFT }, pfn, flags);
  yield* up_read(ctx, mm.mmap_lock);
  return found !== null ? -EHWPOISON : 0;
}

// ---------------------------------------------------------------------------------------------- page actions

/** delete_from_lru_cache(): isolate from the LRU, clearing PG_lru and PG_unevictable. */
function* delete_from_lru_cache(folio: Folio): KGen<void> {
  yield* wr(folioKey(folio));
  folio.flags &= ~(PG_lru | PG_unevictable);
}

/** has_extra_refcount(): anything beyond memory_failure's own reference (and the cache's, with extra_pins). */
function* has_extra_refcount(ctx: Ctx, type: MfMsg, folio: Folio, pfn: number, extra_pins: boolean): KGen<boolean> {
  yield* wr(folioRefKey(folio)); // reading the count: ordered against every get and put (see folioRefKey)
  let count = folio.refcount - 1;
  if (extra_pins) count -= 1 << folio.order;
  if (count > 0) {
    mf_pr(ctx, `${hx(pfn)}: ${MF_MSG[type][0]} still referenced by ${count} users`);
    return true;
  }
  return false;
}

/** a_ops->error_remove_folio, dispatched by the mapping's operations. */
function* error_remove_folio(ctx: Ctx, mapping: AddressSpace, folio: Folio): KGen<number> {
  if (mapping.a_ops === 'kvm_gmem_aops') {
    const ret = yield* kvm_gmem_error_folio(ctx, mapping, folio);
    audit_error_handled(ctx.k, folio.pfn, mapping.host.ino, folio.index);
    return ret;
  }
  // shmem_error_remove_folio(): the poisoned folio stays in the cache (since 2022); the fix series reports that as Delayed
  return ctx.k.opts.mm === 'mf-delayed-fix' ? MF_DELAYED : 0;
}

/** truncate_error_folio(); the fix series passes MF_DELAYED through instead of calling it a failure. */
function* truncate_error_folio(ctx: Ctx, folio: Folio, pfn: number, mapping: AddressSpace): KGen<number> {
  const err = yield* error_remove_folio(ctx, mapping, folio);
  if (ctx.k.opts.mm === 'mf-delayed-fix' && err === MF_DELAYED) return MF_DELAYED;
  if (err !== 0) {
    mf_pr(ctx, `${hx(pfn)}: Failed to punch page: ${err}`, 'info');
    return MF_FAILED;
  }
  // filemap_release_folio(): neither guest_memfd nor shmem folios carry private data, so it succeeds
  return MF_RECOVERED;
}

/** me_pagecache_clean(): entered with the folio locked; unlocks it. */
function* me_pagecache_clean(ctx: Ctx, type: MfMsg, folio: Folio, pfn: number): KGen<number> {
  let ret: number;
  yield* delete_from_lru_cache(folio);
  yield* rd(folioKey(folio));
  const mapping = folio.mapping;
  if (folio.anon) {
    ret = MF_RECOVERED;
  } else if (!mapping) {
    ret = MF_FAILED;
  } else {
    let extra_pins = mapping.a_ops === 'shmem_aops';
    ret = yield* truncate_error_folio(ctx, folio, pfn, mapping);
    if (ctx.k.opts.mm === 'mf-delayed-fix') extra_pins = ret === MF_DELAYED;
    if (yield* has_extra_refcount(ctx, type, folio, pfn, extra_pins)) ret = MF_FAILED;
  }
  yield* folio_unlock(ctx, folio);
  return ret;
}

/** me_pagecache_dirty(): record -EIO on the mapping, then as clean. */
function* me_pagecache_dirty(ctx: Ctx, type: MfMsg, folio: Folio, pfn: number): KGen<number> {
  if (folio.mapping) mapping_set_error(folio.mapping, -EIO);
  return yield* me_pagecache_clean(ctx, type, folio, pfn);
}

/** me_unknown() */
function* me_unknown(ctx: Ctx, folio: Folio, pfn: number): KGen<number> {
  mf_pr(ctx, `${hx(pfn)}: Unknown page state`);
  yield* folio_unlock(ctx, folio);
  return MF_IGNORED;
}

/** identify_page_state() over error_states[]: unevictable rows before plain LRU rows; dirty picks the handler. */
function* identify_page_state(ctx: Ctx, folio: Folio, pfn: number, page_flags: number): KGen<number> {
  yield* rd(folioKey(folio));
  let flags = folio.flags;
  let row = classify(flags);
  if (row === 'UNKNOWN') {
    flags = page_flags | (folio.flags & PG_dirty);
    row = classify(flags);
  }
  let result: number;
  if (row === 'UNKNOWN') result = yield* me_unknown(ctx, folio, pfn);
  else if (row.startsWith('DIRTY')) result = yield* me_pagecache_dirty(ctx, row, folio, pfn);
  else result = yield* me_pagecache_clean(ctx, row, folio, pfn);
  return yield* action_result(ctx, pfn, row, result);
}

function classify(flags: number): MfMsg {
  const dirty = (flags & PG_dirty) !== 0;
  if (flags & PG_unevictable) return dirty ? 'DIRTY_UNEVICTABLE_LRU' : 'CLEAN_UNEVICTABLE_LRU';
  if (flags & PG_lru) return dirty ? 'DIRTY_LRU' : 'CLEAN_LRU';
  return 'UNKNOWN';
}

// ---------------------------------------------------------------------------------------------- memory_failure

/** pfn_valid(): the pfn has a struct page. */
export function pfn_valid(pfn: number): boolean {
  return pfn >= 0 && pfn < RAM_END_PFN;
}

/**
 * memory_failure(pfn, flags): handle a memory error on pfn in the context of the current task.
 * Returns 0, -EHWPOISON, -EBUSY, -ENXIO, -EFAULT or -EOPNOTSUPP as the kernel does.
 */
export function* memory_failure(ctx: Ctx, pfn: number, flags: number): KGen<number> {
  const k = ctx.k;
  if (!k.sysctl.memory_failure_recovery) throw new KernelPanic(`Memory failure on page ${pfn.toString(16)}`);
  yield* mutex_lock(ctx, k.mf_mutex);
  k.audit.mfPfn.set(ctx.task.tid, pfn);
  try {
    if (!(flags & MF_SW_SIMULATED)) k.hw_memory_failure = true;
    if (!pfn_valid(pfn)) {
      mf_pr(ctx, `${hx(pfn)}: memory outside kernel control`);
      return -ENXIO;
    }
    const folio = k.mem.get(pfn);
    // TestSetPageHWPoison()
    yield* wr(`folio:${pfn}`);
    const wasPoisoned = folio && !folio.freed ? (folio.flags & PG_hwpoison) !== 0 : k.offlined.has(pfn);
    if (wasPoisoned) {
      let res = -EHWPOISON;
      if (flags & MF_ACTION_REQUIRED) res = yield* kill_accessing_process(ctx, pfn, flags);
      if (flags & MF_COUNT_INCREASED && folio) yield* folio_put(ctx, folio);
      yield* action_result(ctx, pfn, 'ALREADY_POISONED', MF_FAILED);
      return res;
    }
    if (pfn < FIRST_PFN) {
      // TestSetPageHWPoison() came first and nothing clears it, so the reserved frame stays poisoned
      k.offlined.add(pfn);
      if (k.traits.mfKernelOwnedPages) {
        // get_any_page(): is_kernel_owned_page() -> -ENOTRECOVERABLE
        mf_pr(ctx, `${hx(pfn)}: unhandlable page.`);
        return yield* action_result(ctx, pfn, 'KERNEL', MF_IGNORED);
      }
      // before: never HWPoisonHandlable(), so three shake_page() retries, then -EIO
      yield* lru_add_drain_all(ctx);
      mf_pr(ctx, `${hx(pfn)}: unhandlable page.`);
      return yield* action_result(ctx, pfn, 'GET_HWPOISON', MF_IGNORED);
    }
    if (!folio || folio.freed) {
      // a free buddy page: take_page_off_buddy() keeps it from ever being allocated
      k.offlined.add(pfn);
      return yield* action_result(ctx, pfn, 'BUDDY', MF_RECOVERED);
    }
    // PG_hwpoison only: whether the cells are bad is the error's business (the memory_failure op corrupts the
    // frame before reporting; MADV_HWPOISON and corrupt-pfn leave the data intact, as on real hardware)
    folio.flags |= PG_hwpoison;
    // get_hwpoison_page(): a handlable (LRU) page gets memory_failure's reference, kept on every recovery path.
    // A folio still in the LRU batch is not handlable yet: shake_page() drains the batch and get_any_page() retries.
    if (!(folio.flags & PG_lru) && folio.lru_batch) yield* lru_add_drain_all(ctx);
    if (!(folio.flags & PG_lru)) {
      mf_pr(ctx, `${hx(pfn)}: unhandlable page.`);
      if (flags & MF_COUNT_INCREASED) yield* folio_put(ctx, folio);
      return yield* action_result(ctx, pfn, 'GET_HWPOISON', MF_IGNORED);
    }
    if (!(flags & MF_COUNT_INCREASED)) yield* folio_get(folio);
    // hwpoison_filter() under the folio lock: no filter is configured in the model
    yield* folio_lock(ctx, folio);
    yield* folio_unlock(ctx, folio);
    // shake_folio(), then the folio lock is held until the page action releases it
    yield* folio_lock(ctx, folio);
    const page_flags = folio.flags;
    if (folio.flags & PG_lru) {
      if (!(yield* hwpoison_user_mappings(ctx, folio, pfn, flags))) {
        const r = yield* action_result(ctx, pfn, 'UNMAP_FAILED', MF_FAILED);
        yield* folio_unlock(ctx, folio);
        return r;
      }
    }
    yield* rd(folioKey(folio));
    if (folio.flags & PG_lru && !folio.anon && folio.mapping === null) {
      const r = yield* action_result(ctx, pfn, 'TRUNCATED_LRU', MF_IGNORED);
      yield* folio_unlock(ctx, folio);
      return r;
    }
    return yield* identify_page_state(ctx, folio, pfn, page_flags);
  } finally {
    k.audit.mfPfn.delete(ctx.task.tid);
    yield* mutex_unlock(ctx, k.mf_mutex);
  }
}

// ---------------------------------------------------------------------------------------------- unpoison

function unpoison_pr(ctx: Ctx, text: string): void {
  printk(ctx, 'info', `Unpoison: ${text}`);
}

/** unpoison_memory(): only software-injected poison on a page nobody holds any more. */
export function* unpoison_memory(ctx: Ctx, pfn: number): KGen<number> {
  const k = ctx.k;
  if (!pfn_valid(pfn)) return -EIO; // pfn_to_online_page()
  yield* mutex_lock(ctx, k.mf_mutex);
  try {
    if (k.hw_memory_failure) {
      unpoison_pr(ctx, `${hx(pfn)}: disabled after HW memory failure`);
      return -EOPNOTSUPP;
    }
    const folio = k.mem.get(pfn);
    yield* wr(`folio:${pfn}`);
    if (pfn < FIRST_PFN) {
      if (!k.offlined.has(pfn)) {
        unpoison_pr(ctx, `${hx(pfn)}: page was already unpoisoned`);
        return -EBUSY;
      }
      return -EBUSY; // folio_test_reserved(): refused without a message
    }
    if (!folio || folio.freed) {
      if (!k.offlined.delete(pfn)) {
        unpoison_pr(ctx, `${hx(pfn)}: page was already unpoisoned`);
        return -EBUSY;
      }
      k.num_poisoned_pages--;
      unpoison_pr(ctx, `${hx(pfn)}: software-unpoisoned page`);
      return 0;
    }
    if (!(folio.flags & PG_hwpoison)) {
      unpoison_pr(ctx, `${hx(pfn)}: page was already unpoisoned`);
      return -EBUSY;
    }
    if (folio.refcount > 1) {
      unpoison_pr(ctx, `${hx(pfn)}: someone grabs the hwpoison page`);
      return -EBUSY;
    }
    if (folio.mapcount > 0) {
      unpoison_pr(ctx, `${hx(pfn)}: someone maps the hwpoison page`);
      return -EBUSY;
    }
    if (folio.mapping) {
      unpoison_pr(ctx, `${hx(pfn)}: the hwpoison page has non-NULL mapping`);
      return -EBUSY;
    }
    folio.flags &= ~PG_hwpoison;
    folio.corrupt = false;
    audit_unpoisoned(k, pfn);
    yield* folio_put(ctx, folio); // memory_failure()'s reference: the page goes back to the allocator
    k.num_poisoned_pages--;
    unpoison_pr(ctx, `${hx(pfn)}: software-unpoisoned page`);
    return 0;
  } finally {
    yield* mutex_unlock(ctx, k.mf_mutex);
  }
}

// ---------------------------------------------------------------------------------------------- soft offline

/**
 * soft_offline_page(): migrate the contents away and retire the old frame. guest_memfd's mapping is
 * inaccessible, so migration fails (-EOPNOTSUPP in move_to_new_folio()) and the result is -EBUSY.
 */
export function* soft_offline_page(ctx: Ctx, pfn: number, flags: number): KGen<number> {
  const k = ctx.k;
  if (!pfn_valid(pfn)) return -ENXIO;
  const say = (t: string) => printk(ctx, 'info', `Soft offline: ${t}`);
  yield* mutex_lock(ctx, k.mf_mutex);
  const folio = k.mem.get(pfn);
  try {
    if (!folio || folio.freed) {
      k.offlined.add(pfn);
      return 0;
    }
    yield* wr(folioKey(folio));
    if (folio.flags & PG_hwpoison) {
      say(`${hx(pfn)}: page already poisoned`);
      if (flags & MF_COUNT_INCREASED) yield* folio_put(ctx, folio);
      return 0;
    }
    // get_hwpoison_page(): a folio still in the LRU batch is drained by shake_page() before the retry
    if (!(folio.flags & PG_lru) && folio.lru_batch) yield* lru_add_drain_all(ctx);
    if (flags & MF_COUNT_INCREASED) yield* folio_put(ctx, folio);
    if (folio.mapping?.unevictable) {
      yield* migrate_inaccessible_folio(folio);
      say(`${hx(pfn)}: page migration failed 1, type ${pageFlagsText(folio)}`);
      return -EBUSY;
    }
    yield* migrate_folio_away(ctx, folio);
    return 0;
  } finally {
    yield* mutex_unlock(ctx, k.mf_mutex);
  }
}

/**
 * soft_offline_in_use_page() on a guest_memfd folio: isolate_folio_to_list() takes it off the LRU;
 * migrate_pages() unmaps it (try_to_migrate() moves each PTE's dirty bit to the folio), move_to_new_folio()
 * refuses the inaccessible mapping, remove_migration_ptes() puts the PTEs back as they were, and
 * putback_movable_pages() hands the folio to folio_add_lru(), which parks it in this CPU's LRU batch: PG_lru stays
 * clear until the batch drains (mm/memory-failure.c, mm/migrate.c, mm/rmap.c, mm/swap.c).
 */
function* migrate_inaccessible_folio(folio: Folio): KGen<void> {
  yield* wr(folioKey(folio));
  folio.flags &= ~PG_lru; // folio_isolate_lru()
  for (const { vma, addr } of vmas_mapping_index(folio)) {
    yield* rd(pteKey(vma.mm, addr / PAGE_SIZE));
    const pte = vma.mm.pt.get(addr / PAGE_SIZE);
    if (pte?.kind === 'present' && pte.folio === folio && pte.dirty) folio.flags |= PG_dirty;
  }
  folio.lru_batch = true;
}

/** lru_add_drain_all() (mm/swap.c): every folio waiting in an LRU batch joins its LRU list. */
function* lru_add_drain_all(ctx: Ctx): KGen<void> {
  for (const [pfn, f] of ctx.k.mem) {
    if (!f.lru_batch || f.pfn !== pfn) continue;
    yield* wr(folioKey(f));
    f.lru_batch = false;
    // a folio freed meanwhile went back to the allocator in the model (the batch's reference is not modeled)
    if (!f.freed) f.flags |= PG_lru;
  }
}

/** The kernel's bit number of each model page flag, in pageflag_names[] order (include/trace/events/mmflags.h). */
const KERNEL_PAGEFLAGS: ReadonlyArray<readonly [number, number, string]> = [
  [PG_referenced, 2, 'referenced'],
  [PG_uptodate, 3, 'uptodate'],
  [PG_dirty, 4, 'dirty'],
  [PG_lru, 5, 'lru'],
  [PG_reserved, 13, 'reserved'],
  [PG_swapbacked, 17, 'swapbacked'],
  [PG_unevictable, 18, 'unevictable'],
  [PG_mlocked, 20, 'mlocked'],
  [PG_hwpoison, 21, 'hwpoison'],
];

/** ZONE_DMA below 16 MiB, ZONE_DMA32 below 4 GiB, ZONE_NORMAL above (x86-64). */
function page_zonenum(pfn: number): number {
  return pfn < 0x1000 ? 0 : pfn < 0x100000 ? 1 : 2;
}

/**
 * %pGp of page->flags (lib/vsprintf.c format_page_flags()): the word in hex, the set flags by name, then the
 * node, zone and last_cpupid fields. The word is laid out as Debian's x86-64 config does it (NODES_SHIFT 10 at
 * bit 54, ZONES_SHIFT 3 at bit 51, LAST_CPUPID_SHIFT 21 at bit 30, no section field); node 0, and last_cpupid
 * is all ones (no NUMA-balancing fault has recorded a CPU).
 */
function pageFlagsText(f: Folio): string {
  const node = 0n;
  const zone = BigInt(page_zonenum(f.pfn));
  const lastcpupid = 0x1fffffn;
  let word = (node << 54n) | (zone << 51n) | (lastcpupid << 30n);
  const names: string[] = [];
  if (f.lock.owner !== 0) {
    word |= 1n; // PG_locked, bit 0, first in pageflag_names[]
    names.push('locked');
  }
  for (const [bit, nr, name] of KERNEL_PAGEFLAGS) {
    if (!(f.flags & bit)) continue;
    word |= 1n << BigInt(nr);
    names.push(name);
  }
  names.push(`node=${node}`, `zone=${zone}`, `lastcpupid=0x${lastcpupid.toString(16)}`);
  return `0x${word.toString(16)}(${names.join('|')})`;
}

/** migrate_pages() for an anonymous or shmem folio: copy to a new frame, repoint users, poison the old one. */
function* migrate_folio_away(ctx: Ctx, old: Folio): KGen<void> {
  const nf = folio_alloc(ctx.k);
  // folio_migrate_flags() carries the state flags over; the new folio joins the LRU through the batch
  nf.flags = old.flags & ~(PG_hwpoison | PG_lru);
  nf.lru_batch = (old.flags & PG_lru) !== 0;
  nf.anon = old.anon;
  nf.anonMm = old.anonMm;
  nf.index = old.index;
  nf.data = old.data ? old.data.slice() : null;
  const mapping = old.mapping;
  if (mapping) {
    yield* wr(pcKey(mapping));
    yield* filemap_remove_folio(ctx, old);
    nf.mapping = mapping;
    nf.refcount++;
    mapping.pages.set(nf.index, nf);
  }
  for (const p of ctx.k.procs) {
    for (const [vpn, pte] of p.mm.pt) {
      if (pte.kind !== 'present' || pte.folio !== old) continue;
      yield* wr(pteKey(p.mm, vpn));
      p.mm.pt.set(vpn, { ...pte, folio: nf });
      nf.mapcount++;
      nf.refcount++;
      old.mapcount--;
      yield* folio_put(ctx, old);
    }
  }
  yield* folio_put(ctx, nf);
  // page_handle_poison(): the old frame is marked and retired
  old.flags |= PG_hwpoison;
  ctx.k.offlined.add(old.pfn);
  ctx.k.num_poisoned_pages++;
}
