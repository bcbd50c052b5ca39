/* Guest programs as real guest code. Each vCPU runs in 64-bit mode with an identity map of 1 GiB pages, built in
 * a memslot of the oracle's own at the top of the guest-physical space (so any GPA below MAXPHYADDR, including
 * above 4 GiB, is reachable). A program of reads and writes becomes straight-line code ending in HLT; each read's
 * value is stored in the code memslot, so the host learns the values of the reads that completed before an exit. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "runner.h"

/* code memslot layout: the page tables, then one area per vCPU (its code, its read results, their count), so the
 * vCPUs of a race scenario run their programs side by side */
#define SLOT_SIZE 0x800000ULL
#define PML4_OFF 0x0ULL
#define PDPT_OFF 0x1000ULL
#define PDPT_POOL 512
#define AREAS_OFF 0x201000ULL
#define AREA_SIZE 0x10000ULL
#define MAX_AREAS 64
#define CODE_OFF 0x0ULL /* within an area */
#define CODE_MAX 0xc000ULL
#define RESULTS_OFF 0xc000ULL
#define MAX_READS 1024
#define COUNT_OFF 0xe000ULL
#define GIB (1ULL << 30)

#define PTE_P 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

#define KVM_RUN_WATCHDOG_SECONDS 20

int g_maxphyaddr = 36;
static struct kvm_cpuid2 *g_cpuid;
static int g_run_size;

/* CPUID as KVM supports it, set on every vCPU (as the selftests do); MAXPHYADDR bounds the reachable GPAs. */
void guest_init(int kvm_fd) {
  if (kvm_fd < 0) return;
  g_run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  int nent = 256;
  g_cpuid = calloc(1, sizeof *g_cpuid + (size_t)nent * sizeof(struct kvm_cpuid_entry2));
  g_cpuid->nent = (uint32_t)nent;
  if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, g_cpuid) < 0) {
    free(g_cpuid);
    g_cpuid = NULL;
    return;
  }
  for (uint32_t i = 0; i < g_cpuid->nent; i++)
    if (g_cpuid->entries[i].function == 0x80000008) g_maxphyaddr = (int)(g_cpuid->entries[i].eax & 0xff);
}

static struct vmrec *vm_record(struct scen *s, int vm_fd) {
  for (int i = 0; i < s->nvms; i++)
    if (s->vms[i].fd == vm_fd) return &s->vms[i];
  if (s->nvms == MAX_VMS) return NULL;
  struct vmrec *v = &s->vms[s->nvms++];
  memset(v, 0, sizeof *v);
  v->fd = vm_fd;
  return v;
}

/* The top 1 GiB-aligned region below MAXPHYADDR holds the code memslot. */
static uint64_t code_gpa(void) { return (1ULL << g_maxphyaddr) - GIB; }

/* Identity-maps the 1 GiB page holding gpa; PDPT pages come from the memslot's pool. */
static int map_gpa(struct vmrec *v, uint64_t gpa) {
  uint64_t *pml4 = (uint64_t *)(v->code_host + PML4_OFF);
  unsigned i4 = (unsigned)(gpa >> 39) & 511, i3 = (unsigned)(gpa >> 30) & 511;
  if (!(pml4[i4] & PTE_P)) {
    if (v->pdpt_used == PDPT_POOL) return -1;
    uint64_t off = PDPT_OFF + (uint64_t)v->pdpt_used++ * 0x1000;
    memset(v->code_host + off, 0, 0x1000);
    pml4[i4] = (v->code_gpa + off) | PTE_P | PTE_RW;
  }
  uint64_t *pdpt = (uint64_t *)(v->code_host + ((pml4[i4] & ~0xfffULL) - v->code_gpa));
  pdpt[i3] = (gpa & ~(GIB - 1)) | PTE_P | PTE_RW | PTE_PS;
  return 0;
}

static void ensure_code_slot(struct scen *s, struct vmrec *v) {
  if (v->code_ready || v->code_errno) return;
  void *mem = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    v->code_errno = errno;
    return;
  }
  struct kvm_userspace_memory_region m = {
      .slot = (uint32_t)s->code_slot,
      .guest_phys_addr = code_gpa(),
      .memory_size = SLOT_SIZE,
      .userspace_addr = (uint64_t)(uintptr_t)mem,
  };
  if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &m) < 0) {
    v->code_errno = errno;
    munmap(mem, SLOT_SIZE);
    return;
  }
  v->code_host = mem;
  v->code_gpa = code_gpa();
  v->code_ready = 1;
  map_gpa(v, v->code_gpa);
}

static void set_seg(struct kvm_segment *sg, uint16_t sel, uint8_t type, int code64) {
  memset(sg, 0, sizeof *sg);
  sg->base = 0;
  sg->limit = 0xffffffff;
  sg->selector = sel;
  sg->type = type;
  sg->present = 1;
  sg->s = 1;
  sg->g = 1;
  sg->l = code64 ? 1 : 0;
  sg->db = code64 ? 0 : 1;
}

/* Long mode with paging, flat segments; no IDT is needed because the programs take no exceptions. */
static int setup_long_mode(struct vcpurec *c) {
  struct kvm_sregs sr;
  if (g_cpuid && ioctl(c->fd, KVM_SET_CPUID2, g_cpuid) < 0) return errno;
  if (ioctl(c->fd, KVM_GET_SREGS, &sr) < 0) return errno;
  sr.cr0 = 0x80000031; /* PG | NE | ET | PE */
  sr.cr4 = 0x220;      /* OSFXSR | PAE */
  sr.efer = 0xd00;     /* NXE | LMA | LME */
  sr.cr3 = c->vm->code_gpa + PML4_OFF;
  set_seg(&sr.cs, 0x8, 0xb, 1);
  set_seg(&sr.ds, 0x10, 0x3, 0);
  set_seg(&sr.es, 0x10, 0x3, 0);
  set_seg(&sr.ss, 0x10, 0x3, 0);
  set_seg(&sr.fs, 0x10, 0x3, 0);
  set_seg(&sr.gs, 0x10, 0x3, 0);
  if (ioctl(c->fd, KVM_SET_SREGS, &sr) < 0) return errno;
  return 0;
}

static void vcpu_setup(struct scen *s, struct vcpurec *c, int vm_fd, int vcpu_fd);

void guest_vcpu_created(struct scen *s, int vm_fd, int vcpu_fd) {
  state_lock();
  if (s->nvcpus == MAX_VCPUS) {
    state_unlock();
    return;
  }
  struct vcpurec *c = &s->vcpus[s->nvcpus++];
  vcpu_setup(s, c, vm_fd, vcpu_fd);
  state_unlock();
}

static void vcpu_setup(struct scen *s, struct vcpurec *c, int vm_fd, int vcpu_fd) {
  memset(c, 0, sizeof *c);
  c->fd = vcpu_fd;
  c->vm = vm_record(s, vm_fd);
  if (!c->vm) {
    c->setup_errno = ENOSPC;
    return;
  }
  ensure_code_slot(s, c->vm);
  if (!c->vm->code_ready) {
    c->setup_errno = c->vm->code_errno;
    return;
  }
  void *run = mmap(NULL, (size_t)g_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
  if (run == MAP_FAILED) {
    c->setup_errno = errno;
    return;
  }
  c->run = run;
  if (c->vm->nareas == MAX_AREAS) {
    c->setup_errno = ENOSPC;
    return;
  }
  c->area = AREAS_OFF + (uint64_t)c->vm->nareas++ * AREA_SIZE;
  c->setup_errno = setup_long_mode(c);
}

struct vcpurec *guest_vcpu(struct scen *s, int fd) {
  struct vcpurec *found = NULL;
  state_lock();
  for (int i = s->nvcpus - 1; i >= 0 && !found; i--)
    if (s->vcpus[i].fd == fd) found = &s->vcpus[i];
  state_unlock();
  return found;
}

/* The scenario closed fd: forget it, and drop the kvm_run mapping, which would otherwise keep the vCPU (and so
 * the VM) alive longer than in the model. */
void guest_fd_closed(struct scen *s, int fd) {
  state_lock();
  for (int i = 0; i < s->nvms; i++)
    if (s->vms[i].fd == fd) s->vms[i].fd = -1;
  for (int i = 0; i < s->nvcpus; i++) {
    struct vcpurec *c = &s->vcpus[i];
    if (c->fd != fd) continue;
    if (c->run) munmap(c->run, (size_t)g_run_size);
    c->run = NULL;
    c->fd = -1;
  }
  state_unlock();
}

/* ------------------------------------------------------------------------------------------------ assembler */

struct asm_buf {
  uint8_t *p;
  size_t len, cap;
};

static int emit(struct asm_buf *a, const void *bytes, size_t n) {
  if (a->len + n > a->cap) return -1;
  memcpy(a->p + a->len, bytes, n);
  a->len += n;
  return 0;
}

static int emit_imm64(struct asm_buf *a, const uint8_t *op, size_t oplen, uint64_t imm) {
  return emit(a, op, oplen) | emit(a, &imm, 8);
}

/* movabs rbx, gpa; then the access through [rbx] */
static int emit_access(struct asm_buf *a, int is_write, int size, uint64_t gpa, uint64_t value, uint64_t results_gpa,
                       uint64_t count_gpa, int read_index) {
  static const uint8_t movabs_rbx[] = {0x48, 0xbb}, movabs_rax[] = {0x48, 0xb8};
  static const uint8_t ld1[] = {0x0f, 0xb6, 0x03}, ld2[] = {0x0f, 0xb7, 0x03}, ld4[] = {0x8b, 0x03},
                       ld8[] = {0x48, 0x8b, 0x03};
  static const uint8_t st1[] = {0x88, 0x03}, st2[] = {0x66, 0x89, 0x03}, st4[] = {0x89, 0x03},
                       st8[] = {0x48, 0x89, 0x03};
  static const uint8_t store_rax_moffs[] = {0x48, 0xa3}, store_eax_moffs[] = {0xa3};
  int r = emit_imm64(a, movabs_rbx, 2, gpa);
  if (is_write) {
    r |= emit_imm64(a, movabs_rax, 2, value);
    switch (size) {
      case 2: r |= emit(a, st2, sizeof st2); break;
      case 4: r |= emit(a, st4, sizeof st4); break;
      case 8: r |= emit(a, st8, sizeof st8); break;
      default: r |= emit(a, st1, sizeof st1); break;
    }
    return r;
  }
  switch (size) {
    case 2: r |= emit(a, ld2, sizeof ld2); break;
    case 4: r |= emit(a, ld4, sizeof ld4); break;
    case 8: r |= emit(a, ld8, sizeof ld8); break;
    default: r |= emit(a, ld1, sizeof ld1); break;
  }
  /* results[i] = rax; count = i + 1 */
  r |= emit_imm64(a, store_rax_moffs, 2, results_gpa + 8ULL * (uint64_t)read_index);
  uint8_t mov_eax[5] = {0xb8};
  uint32_t n = (uint32_t)read_index + 1;
  memcpy(mov_eax + 1, &n, 4);
  r |= emit(a, mov_eax, 5);
  r |= emit_imm64(a, store_eax_moffs, 1, count_gpa);
  return r;
}

/* Assembles the program; returns the number of reads, or -1 with g_model_only set. */
static int assemble(struct scen *s, struct vcpurec *c, const struct jnode *prog) {
  struct vmrec *v = c->vm;
  struct asm_buf a = {v->code_host + c->area + CODE_OFF, 0, CODE_MAX};
  uint64_t results = v->code_gpa + c->area + RESULTS_OFF, count = v->code_gpa + c->area + COUNT_OFF;
  int reads = 0, i = 0;
  for (const struct jnode *acc = prog ? prog->child : NULL; acc; acc = acc->next, i++) {
    int is_write = !strcmp(json_str(json_get(acc, "rw")) ?: "r", "w");
    int size = (int)json_int(json_get(acc, "size"), 1);
    uint64_t gpa = value_of(s, json_get(acc, "gpa"));
    uint64_t value = is_write ? value_of(s, json_get(acc, "value")) : 0;
    if (json_get(acc, "private")) {
      snprintf(g_model_only, sizeof g_model_only,
               "guest access %d forces private: %s; a real guest's accesses follow the memory attributes", i,
               json_get(acc, "private")->boolean ? "true" : "false");
      return -1;
    }
    if (g_maxphyaddr < 64 && (gpa + (uint64_t)size - 1) >> g_maxphyaddr) {
      snprintf(g_model_only, sizeof g_model_only, "guest access %d at GPA 0x%" PRIx64 " is beyond the guest's MAXPHYADDR (%d bits)",
               i, gpa, g_maxphyaddr);
      return -1;
    }
    if (gpa + (uint64_t)size > v->code_gpa && gpa < v->code_gpa + SLOT_SIZE) {
      snprintf(g_model_only, sizeof g_model_only, "guest access %d at GPA 0x%" PRIx64 " hits the oracle's code memslot", i, gpa);
      return -1;
    }
    if (!is_write && reads == MAX_READS) {
      snprintf(g_model_only, sizeof g_model_only, "the guest program has more than %d reads", MAX_READS);
      return -1;
    }
    state_lock();
    int mapped = map_gpa(v, gpa) == 0 && map_gpa(v, gpa + (uint64_t)size - 1) == 0;
    state_unlock();
    if (!mapped || emit_access(&a, is_write, size, gpa, value, results, count, reads) < 0) {
      snprintf(g_model_only, sizeof g_model_only, "the guest program does not fit the oracle's code memslot");
      return -1;
    }
    if (!is_write) reads++;
  }
  static const uint8_t hlt[] = {0xf4};
  if (emit(&a, hlt, 1) < 0) {
    snprintf(g_model_only, sizeof g_model_only, "the guest program does not fit the oracle's code memslot");
    return -1;
  }
  return reads;
}

static uint64_t size_mask(int size) { return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1; }

/* A KVM exit that leaves an instruction for userspace to complete is completed now, with immediate_exit, so the
 * next step's program starts from a clean vCPU (KVM runs complete_userspace_io before checking immediate_exit). */
static void drain_pending_io(struct vcpurec *c) {
  if (c->run->exit_reason != KVM_EXIT_MMIO && c->run->exit_reason != KVM_EXIT_IO) return;
  if (c->run->exit_reason == KVM_EXIT_MMIO) memset(c->run->mmio.data, 0, sizeof c->run->mmio.data);
  c->run->immediate_exit = 1;
  ioctl(c->fd, KVM_RUN, 0);
  c->run->immediate_exit = 0;
}

static void emit_values(struct jout *o, struct vcpurec *c, const struct jnode *prog, int nread) {
  const uint64_t *results = (const uint64_t *)(c->vm->code_host + c->area + RESULTS_OFF);
  int idx = 0;
  jo_arr(o, "values");
  for (const struct jnode *acc = prog ? prog->child : NULL; acc && idx < nread; acc = acc->next) {
    if (!strcmp(json_str(json_get(acc, "rw")) ?: "r", "w")) continue;
    jo_u64(o, NULL, results[idx] & size_mask((int)json_int(json_get(acc, "size"), 1)));
    idx++;
  }
  jo_close_arr(o);
}

/* The watchdog timer is process-wide, so only sequential runs arm it (a race's threads rely on the boot timeout). */
int g_watchdog = 1;

static long timed_run(int fd) {
  if (!g_watchdog) return ioctl(fd, KVM_RUN, 0);
  struct itimerval t = {.it_value = {.tv_sec = KVM_RUN_WATCHDOG_SECONDS}};
  struct itimerval off = {0};
  setitimer(ITIMER_REAL, &t, NULL);
  long r = ioctl(fd, KVM_RUN, 0);
  int e = errno;
  setitimer(ITIMER_REAL, &off, NULL);
  errno = e;
  return r;
}

int op_kvm_run(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  char b[32];
  int fd = (int)(int64_t)arg_u64(s, step, "vcpu", 0);
  const struct jnode *prog = json_get(step, "guest");
  struct vcpurec *c = guest_vcpu(s, fd);
  long r;
  int e;
  if (!c) {
    /* not a vCPU of this scenario: the ioctl fails on its own (EBADF, ENOTTY, ...) */
    r = ioctl(fd, KVM_RUN, 0);
    e = errno;
    jo_i64(o, "ret", r < 0 ? -1 : r);
    if (r < 0) jo_str(o, "errno", errno_name(e, b, sizeof b));
    else jo_null(o, "errno");
    jo_arr(o, "values");
    jo_close_arr(o);
    *ret = (uint64_t)r;
    return 0;
  }
  if (c->setup_errno) {
    snprintf(g_model_only, sizeof g_model_only, "the oracle could not prepare vCPU fd %d for guest code: %s", fd,
             errno_name(c->setup_errno, b, sizeof b));
    return -1;
  }
  int nreads = assemble(s, c, prog);
  if (nreads < 0) return -1;
  *(volatile uint32_t *)(c->vm->code_host + c->area + COUNT_OFF) = 0;
  struct kvm_regs regs;
  memset(&regs, 0, sizeof regs);
  regs.rip = c->vm->code_gpa + c->area + CODE_OFF;
  regs.rflags = 2;
  if (ioctl(c->fd, KVM_SET_REGS, &regs) < 0) {
    snprintf(g_model_only, sizeof g_model_only, "KVM_SET_REGS failed: %s", errno_name(errno, b, sizeof b));
    return -1;
  }
  c->run->exit_reason = KVM_EXIT_UNKNOWN;
  r = timed_run(c->fd);
  e = errno;
  int done = (int)*(volatile uint32_t *)(c->vm->code_host + c->area + COUNT_OFF);
  if (r < 0) {
    jo_i64(o, "ret", -1);
    jo_str(o, "errno", errno_name(e, b, sizeof b));
  } else {
    jo_i64(o, "ret", r);
    jo_null(o, "errno");
  }
  *ret = r < 0 ? (uint64_t)-1 : (uint64_t)r;
  emit_values(o, c, prog, done);
  jo_str(o, "exit_reason", exit_reason_name(c->run->exit_reason, b, sizeof b));
  if (c->run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
    jo_obj(o, "memory_fault");
    memory_fault_flags(o, "flags", c->run->memory_fault.flags);
    jo_u64(o, "gpa", c->run->memory_fault.gpa);
    jo_u64(o, "size", c->run->memory_fault.size);
    jo_close_obj(o);
  }
  if (r < 0 && e == EINTR && g_sig.alarm_fired)
    jo_str(o, "livelock", "KVM_RUN did not return within the oracle's watchdog");
  drain_pending_io(c);
  return 0;
}
