/*
 * Shared state and kernel paths of the gmemsim model (src/kernel/...), in Promela.
 *
 * Granularity: every `atomic { ... }` below is ONE scheduling point of the TypeScript model: it performs the
 * point's action (a lock operation, a read or a write of shared state) and then runs the code up to the next
 * point, as one transition of the explorer does. Control never rests between two atomics outside a label, so
 * Spin stores exactly one state per point (branches jump from inside the atomic to the next point's label).
 * STEP() names the point as `describePoint()` does, normalised, for the simulation cross-check (-DTRACE).
 *
 * The scenario files (fault-vs-mf.pml, ...) include this file and define the processes and the setup state.
 */

/* ---- variants of kvm_gmem_error_folio() (options.error_handler) ---- */
#define H_MAINLINE 0
#define H_ORIGINAL 1
#define H_RFC 2
#define H_TRUNCATE 3
#ifndef HANDLER
#define HANDLER H_MAINLINE
#endif

/* ---- the start of every step: STEPG(guard, name) blocks until the point is enabled (a lock free, a wait over),
 * STEP(name) is always enabled; the *F forms also name the folio. With -DTRACE the step prints its name; with
 * -DREPLAY=N (bench/peers/spin/crosscheck.ts) it also waits for its turn in the schedule SCHEDFILE sets up. ---- */
#ifdef REPLAY
short turn;
byte sched[REPLAY + 1];      /* pids in schedule order, from sched.pml; 0 (init) ends it */
#define TURN && (turn >= REPLAY || sched[turn] == _pid) -> turn = turn + (turn < REPLAY)   /* then free-running */
#else
#define TURN
#endif
#ifdef TRACE
#define STEPG(g, s) (g) TURN; printf("@%d ", _pid); printf(s); printf("\n")
#define STEPGF(g, s, f) (g) TURN; printf("@%d ", _pid); printf(s); printf("#%d\n", f)
#else
#define STEPG(g, s) (g) TURN
#define STEPGF(g, s, f) (g) TURN
#endif
#define STEP(s) STEPG(1, s)
#define STEPF(s, f) STEPGF(1, s, f)

/* A property: an assertion, or under REPLAY a printed verdict so the replay runs on as the explorer does */
#ifdef REPLAY
#define PROP(code, cond) if :: !(cond) -> printf("@@ "); printf(#code); printf("\n") :: else fi
#else
#define PROP(code, cond) assert(cond)
#endif

/* WARN_ON_ONCE / KVM_BUG_ON (GMEM4009) and the vCPU livelock bound (GMEM4011) are facts, not failures, unless asked */
#ifdef CHECK_WARN
#define WARN assert(false)
#else
#define WARN skip
#endif
#ifdef CHECK_LIVELOCK
#define LIVELOCK assert(false)
#else
#define LIVELOCK skip
#endif

#define ME (_pid + 1)

/* memory_failure() results: 0, -EHWPOISON, -EBUSY */
#define R_OK 0
#define R_EHWPOISON 1
#define R_EBUSY 2

/* ---- folios: ids 1..NF-1 stand for pfns (never reused, as in the model); 0 is "none" ---- */
#define NF 5
byte f_lock[NF];          /* PG_locked: owner, 0 when free (Folio.lock) */
byte f_ref[NF];           /* folio refcount */
bit f_hwp[NF];            /* PG_hwpoison */
bit f_lru[NF];            /* PG_lru and PG_unevictable (always set and cleared together on guest_memfd) */
bit f_dirty[NF];          /* PG_dirty */
bit f_uptodate[NF];       /* PG_uptodate */
bit f_corrupt[NF];        /* Folio.corrupt: the frame's cells are bad */
bit f_freed[NF];          /* Folio.freed */
bit offlined[NF];         /* k.offlined: poisoned frames kept off the free lists */
byte nextf;               /* k.ids.pfn: the next folio_alloc() */

/* ---- the guest_memfd inode: only page index 1 is ever touched; the other pages are a constant count ---- */
byte pc1;                 /* mapping->pages[1] (the folio at index 1, 0 = hole); a folio's mapping is set iff pc1 == it */
byte last1;               /* mapping->lastPfn[1]: what filePagePfn() falls back to after a punch */
byte other_pages;         /* folios at the other indices (they only matter to truncate's nrpages check) */
byte inv_w;               /* mapping->invalidate_lock: exclusive owner */
byte inv_r;               /* ... shared holders */

/* ---- the VM: one gfn (index 1's), its SPTE and the MMU invalidation state ---- */
byte mmu_w;               /* kvm->mmu_lock (rwlock): writer */
byte mmu_r;               /* ... readers */
byte spte;                /* folio mapped by the private SPTE of the gfn, 0 = none */
byte in_progress;         /* kvm->mmu_invalidate_in_progress */
bit range_set;            /* mmu_invalidate_range_start != INVALID_GPA (every range here covers the gfn) */
byte seq;                 /* kvm->mmu_invalidate_seq */
byte retry_gen;           /* kvm->retry_gen: bumped by every SPTE or invalidation change (the vCPU's spin bound) */

byte inflight;            /* vcpu->inflight: ME of a vCPU between translating a guest access and completing it */
byte mf_mutex;            /* mf_mutex */
byte ndone;               /* scenario threads finished (gates the `after` check) */

/* ---- audit facts the properties read (src/kernel/audit.ts) ---- */
bit handled[NF];          /* audit.handled: error_remove_folio returned for this pfn */
bit poisoned_idx;         /* audit.poisonedIdx has index 1 */

/* The per-state properties (src/properties/properties.ts checkState), asserted in every step that changes the
 * SPTE, the page cache or `handled`, which are the only steps that can break them. */
#define INV_GMEM4001 (spte == 0 || !handled[spte])
#define INV_GMEM4003 (spte == 0 || pc1 == spte)
#define CHECK_STATE PROP(GMEM4001, INV_GMEM4001); PROP(GMEM4003, INV_GMEM4003)

#define MMU_FREE (mmu_w == 0 && mmu_r == 0)
#define INV_FREE (inv_w == 0 && inv_r == 0)
#define NRPAGES (other_pages + (pc1 != 0))

/* mmu_invalidate_retry_gfn_unsafe(): an invalidation covering the gfn, or a newer sequence */
#define RETRY_UNSAFE ((in_progress > 0 && range_set) || seq != mmu_seq)
/* mmu_invalidate_retry_gfn() under mmu_lock: in progress at all (an unset range WARNs and retries), or newer */
#define RETRY_LOCKED (in_progress > 0 || seq != mmu_seq)

/* folio_put(): the last reference frees the frame; a poisoned one is never handed out again */
inline folio_put(f) {
  f_ref[f]--;
  if
  :: f_ref[f] == 0 ->
     if :: f_hwp[f] -> offlined[f] = 1 :: else fi;
     f_freed[f] = 1; f_hwp[f] = 0; f_lru[f] = 0; f_dirty[f] = 0; f_uptodate[f] = 0
  :: else
  fi
}

/* filemap_remove_folio() of a locked folio: out of the page cache (the cache's reference is dropped by the
 * folio_put() step that follows) */
inline filemap_remove_folio(f) {
  if :: pc1 == f -> pc1 = 0 :: else fi;
  last1 = f;
  CHECK_STATE
}

/* kvm_mmu_invalidate_begin() / _range_add() / _end() and tdp_mmu_zap_leafs() on the gfn */
inline invalidate_begin() {
  retry_gen++; in_progress++;
  if :: in_progress == 1 -> range_set = 0 :: else fi
}
inline invalidate_range_add() {
  if :: in_progress == 0 -> WARN :: else fi;
  retry_gen++; range_set = 1
}
inline invalidate_end() {
  retry_gen++; seq++; in_progress--;
  if :: !range_set -> WARN :: else fi
}
inline zap_spte() {
  if :: spte != 0 -> spte = 0; retry_gen++; flushed = 1 :: else -> flushed = 0 fi   /* the caller's `flush` */
}
/* kvm_flush_remote_tlbs() waits for other vCPUs' in-flight guest accesses */
#define TLB_IDLE (inflight == 0 || inflight == ME)

/* audit_error_handled(): a_ops->error_remove_folio returned for folio f at index 1 */
inline error_handled(f) {
  handled[f] = 1; poisoned_idx = 1;
  CHECK_STATE
}
