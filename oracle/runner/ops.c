/* The scenario ops with real syscalls. Each op appends its result fields (ret, errno, value, stat, ...) in the
 * model's order; the driver adds signal and dmesg. An op that has no faithful real-kernel equivalent sets
 * g_model_only and returns -1: the step is reported as model-only, never approximated. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

/* memory_failure() flags (include/linux/mm.h) the oracle can reproduce through its injection interfaces */
#define MF_ACTION_REQUIRED (1u << 1)
#define MF_SW_SIMULATED (1u << 5)

#define PAGE 4096ULL
#define MAX_RW_COUNT (64ULL << 20)

__thread char g_model_only[512];

static int model_only(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int model_only(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_model_only, sizeof g_model_only, fmt, ap);
  va_end(ap);
  return -1;
}

/* ------------------------------------------------------------------------------------------------ arguments */

int label_find(const struct scen *s, const char *name) {
  for (int i = s->nlabels - 1; i >= 0; i--)
    if (!strcmp(s->label_name[i], name)) return i;
  return -1;
}

/* A compiled value: {"n":"0x.."}, {"label":L,"add":"0x.."} (u64 arithmetic, as the model's labels) or {"s":..}. */
uint64_t value_of(struct scen *s, const struct jnode *v) {
  const struct jnode *n = json_get(v, "n");
  if (n) return strtoull(json_str(n), NULL, 0);
  const char *label = json_str(json_get(v, "label"));
  if (label) {
    state_lock();
    int i = label_find(s, label);
    uint64_t value = i >= 0 ? s->label_value[i] : 0;
    state_unlock();
    return value + strtoull(json_str(json_get(v, "add")) ?: "0", NULL, 0);
  }
  return 0;
}

int arg_has(const struct jnode *step, const char *name) { return json_get(json_get(step, "args"), name) != NULL; }

uint64_t arg_u64(struct scen *s, const struct jnode *step, const char *name, uint64_t dflt) {
  const struct jnode *v = json_get(json_get(step, "args"), name);
  return v ? value_of(s, v) : dflt;
}

const char *arg_str(const struct jnode *step, const char *name) {
  return json_str(json_get(json_get(json_get(step, "args"), name), "s"));
}

#define U(name) arg_u64(s, step, name, 0)
#define FD(name) ((int)(int64_t)arg_u64(s, step, name, 0))

/* ------------------------------------------------------------------------------------------------ results */

/* ret and errno the way userspace sees a syscall: -1 with errno, or the value. */
static void emit_ret(struct jout *o, long r, int err, uint64_t *ret) {
  char b[16];
  if (r < 0) {
    jo_i64(o, "ret", -1);
    jo_str(o, "errno", errno_name(err, b, sizeof b));
    *ret = (uint64_t)-1;
  } else {
    jo_i64(o, "ret", r);
    jo_null(o, "errno");
    *ret = (uint64_t)r;
  }
}

static void emit_ok(struct jout *o, int ok, uint64_t *ret) {
  jo_i64(o, "ret", ok ? 0 : -1);
  jo_null(o, "errno");
  *ret = ok ? 0 : (uint64_t)-1;
}

/* ------------------------------------------------------------------------------------------------ helpers */

/* Scenarios name fds like 1000 as "unused"; the runner's own fds must never be those, so they live at the top of
 * a raised RLIMIT_NOFILE. */
int private_fd_base(void) {
  static int base = -1;
  if (base >= 0) return base;
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  struct rlimit want = {65536, 65536};
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  base = (int)rl.rlim_cur - 16;
  return base;
}

/* /dev/kvm for the runner's own ioctls (vCPU mmap size, CPUID). */
static int g_helper_kvm = -1;
int helper_kvm_fd(void) {
  if (g_helper_kvm < 0) {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    g_helper_kvm = fcntl(fd, F_DUPFD_CLOEXEC, private_fd_base());
    close(fd);
  }
  return g_helper_kvm;
}

/* The model's devKvmFd(): the /dev/kvm fd opened on first need, reused while that fd number is open. */
static int implicit_kvm(struct scen *s, const struct jnode *step, const char *fd_arg) {
  if (fd_arg && arg_has(step, fd_arg)) return FD(fd_arg);
  if (s->implicit_kvm_fd >= 0 && fcntl(s->implicit_kvm_fd, F_GETFD) >= 0) return s->implicit_kvm_fd;
  s->implicit_kvm_fd = open("/dev/kvm", O_RDWR);
  return s->implicit_kvm_fd;
}

int pagemap_pfn(uint64_t addr, uint64_t *pfn) {
  uint64_t e = 0;
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = pread(fd, &e, 8, (off_t)(addr / PAGE * 8));
  close(fd);
  if (n != 8) return -1;
  *pfn = (e >> 63) & 1 ? e & ((1ULL << 55) - 1) : 0;
  return 0;
}

/* A write of text to a file, as `echo` would do it: returns write()'s result. */
static long write_file(const char *path, const char *text, int *err) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  long r = write(fd, text, strlen(text));
  *err = errno;
  close(fd);
  return r;
}

static long hwpoison_write(const char *file, uint64_t pfn, int *err) {
  char path[96], text[32];
  snprintf(path, sizeof path, "/sys/kernel/debug/hwpoison/%s", file);
  snprintf(text, sizeof text, "0x%" PRIx64 "\n", pfn);
  return write_file(path, text, err);
}

/* A buffer for read/write-like syscalls; mmap'ed so no fd and no heap state is disturbed. */
static void *rw_buffer(uint64_t count, int value) {
  size_t len = count ? (size_t)count : 1;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  memset(p, value, len);
  return p;
}

/* ------------------------------------------------------------------------------------------------ files */

static int op_open(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  const char *path = arg_str(step, "path");
  long r = open(path ? path : "/dev/kvm", (int)arg_u64(s, step, "flags", 2));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_memfd_create(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  const char *name = arg_str(step, "name");
  long r = syscall(SYS_memfd_create, name ? name : "gmemsim", (unsigned)U("flags"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_close(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  int fd = FD("fd");
  long r = close(fd);
  int e = errno;
  if (r == 0) guest_fd_closed(s, fd);
  emit_ret(o, r, e, ret);
  return 0;
}

static int op_dup(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = dup(FD("fd"));
  emit_ret(o, r, errno, ret);
  return 0;
}

/* read, write, pread, pwrite of count bytes (writes store `value` in every byte) */
static int op_rw(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret, int is_write, int positional) {
  uint64_t count = U("count");
  if (count > MAX_RW_COUNT) return model_only("count 0x%" PRIx64 " exceeds the oracle's %llu MiB buffer", count, MAX_RW_COUNT >> 20);
  void *buf = rw_buffer(count, (int)(U("value") & 0xff));
  if (!buf) return model_only("cannot allocate a %" PRIu64 "-byte buffer", count);
  int fd = FD("fd");
  off_t off = (off_t)U("offset");
  long r;
  if (is_write)
    r = positional ? pwrite(fd, buf, count, off) : write(fd, buf, count);
  else
    r = positional ? pread(fd, buf, count, off) : read(fd, buf, count);
  int e = errno;
  munmap(buf, count ? count : 1);
  emit_ret(o, r, e, ret);
  return 0;
}

static int op_lseek(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = lseek(FD("fd"), (off_t)U("offset"), (int)U("whence"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_fstat(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  struct stat st;
  long r = fstat(FD("fd"), &st);
  emit_ret(o, r, errno, ret);
  if (r == 0) {
    jo_obj(o, "stat");
    jo_u64(o, "st_size", (uint64_t)st.st_size);
    jo_u64(o, "st_blksize", (uint64_t)st.st_blksize);
    jo_u64(o, "st_ino", (uint64_t)st.st_ino);
    jo_u64(o, "st_mode", (uint64_t)st.st_mode);
    jo_close_obj(o);
  }
  return 0;
}

static int op_ftruncate(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = ftruncate(FD("fd"), (off_t)U("length"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_fallocate(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = fallocate(FD("fd"), (int)U("mode"), (off_t)U("offset"), (off_t)U("len"));
  emit_ret(o, r, errno, ret);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ memory */

/* The scenario's mappings go top-down in a window nothing else uses, as in the model's address space: an address
 * just past a mapping is unmapped there, and must be here too (the runner's own mappings live elsewhere). */
static int op_mmap(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  uint64_t addr = U("addr"), len = (U("length") + PAGE - 1) & ~(PAGE - 1);
  int flags = (int)U("flags");
  uint64_t length = U("length"), offset = U("offset");
  int prot = (int)U("prot"), fd = FD("fd");
  state_lock();
  int placed = addr == 0 && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && len && len < s->mmap_cursor;
  if (placed) addr = s->mmap_cursor - len;
  void *p = mmap((void *)(uintptr_t)addr, length, prot, flags, fd, (off_t)offset);
  int e = errno;
  if (placed && p != MAP_FAILED && (uint64_t)(uintptr_t)p < s->mmap_cursor) s->mmap_cursor = (uint64_t)(uintptr_t)p;
  state_unlock();
  emit_ret(o, p == MAP_FAILED ? -1 : (long)(uintptr_t)p, e, ret);
  return 0;
}

static int op_munmap(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = munmap((void *)(uintptr_t)U("addr"), U("length"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_madvise(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = madvise((void *)(uintptr_t)U("addr"), U("length"), (int)U("advice"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_load(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  uint64_t v;
  int faulted = guarded_load(U("addr"), (int)arg_u64(s, step, "size", 1), &v);
  emit_ok(o, !faulted, ret);
  if (!faulted) jo_u64(o, "value", v);
  return 0;
}

static int op_store(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  emit_ok(o, !guarded_store(U("addr"), (int)arg_u64(s, step, "size", 1), U("value")), ret);
  return 0;
}

static int op_memset(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  emit_ok(o, !guarded_memset(U("addr"), (int)(U("value") & 0xff), U("length")), ret);
  return 0;
}

static int op_pagemap(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  uint64_t pfn = 0;
  if (pagemap_pfn(U("addr"), &pfn) < 0) return model_only("cannot read /proc/self/pagemap: %s", strerror(errno));
  jo_u64(o, "ret", pfn);
  jo_null(o, "errno");
  *ret = pfn;
  return 0;
}

static int op_prctl(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  long r = prctl((int)U("option"), U("arg2"), U("arg3"), U("arg4"), U("arg5"));
  emit_ret(o, r, errno, ret);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ memory failure */

/*
 * The kernel rate-limits unpoison messages (unpoison_pr_info(): 10 per 5 s) with one state for the whole boot.
 * Scenarios share the boot but must each see what a freshly booted kernel prints, so the runner tracks the window
 * and, before a scenario whose unpoisons would overflow it, waits it out. Within one scenario nothing is paced:
 * there the kernel's own limit is what the kernel does.
 */
#define UNPOISON_BURST 10
#define UNPOISON_INTERVAL 5.0
#define UNPOISON_MARGIN 0.5

double monotonic_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void unpoison_pace(int n) {
  double now = monotonic_seconds(), end = g_shared->unpoison_window_start + UNPOISON_INTERVAL + UNPOISON_MARGIN;
  if (n == 0 || g_shared->unpoison_in_window == 0 || now >= end) return;
  if (g_shared->unpoison_in_window + n <= UNPOISON_BURST) return;
  double wait = end - now;
  struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
  g_shared->unpoison_in_window = 0;
}

/* ___ratelimit(): a call after the interval opens a new window; every call counts against the burst. */
static void unpoison_account(void) {
  double now = monotonic_seconds();
  if (g_shared->unpoison_in_window == 0 || now > g_shared->unpoison_window_start + UNPOISON_INTERVAL) {
    g_shared->unpoison_window_start = now;
    g_shared->unpoison_in_window = 0;
  }
  g_shared->unpoison_in_window++;
}

static int op_hwpoison(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret, const char *file) {
  int e = 0;
  if (!strcmp(file, "unpoison-pfn")) unpoison_account();
  long r = hwpoison_write(file, U("pfn"), &e);
  emit_ret(o, r, e, ret);
  return 0;
}

/* The pfn behind (fd, offset), found through a temporary read-only host mapping that is gone again before the
 * injection: the model's memory_failure needs no mapping, so none may exist when the real one runs. */
static int gmem_pfn(int fd, uint64_t offset, uint64_t *pfn, void **tmp) {
  char b[16];
  uint64_t base = offset & ~(PAGE - 1);
  void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)base);
  if (p == MAP_FAILED)
    return model_only("memory_failure: fd %d has no host mapping (mmap: %s), so its pfn cannot be found", fd,
                      errno_name(errno, b, sizeof b));
  /* (mincore cannot tell a hole from an allocated page here: guest_memfd folios are not uptodate until first
   * used. The model refuses a memory_failure on a hole, so the comparison shows that case.) */
  uint64_t v;
  if (guarded_load((uint64_t)(uintptr_t)p, 1, &v)) {
    munmap(p, PAGE);
    signals_reset(); /* the probe's own fault is not the step's */
    return model_only("memory_failure: offset 0x%" PRIx64 " of fd %d is not host-accessible (private)", offset, fd);
  }
  if (pagemap_pfn((uint64_t)(uintptr_t)p, pfn) < 0 || *pfn == 0) {
    munmap(p, PAGE);
    return model_only("memory_failure: pagemap shows no pfn for fd %d offset 0x%" PRIx64, fd, offset);
  }
  *tmp = p;
  return 0;
}

/* memory_failure(pfn, flags) through the real interfaces: debugfs corrupt-pfn (which adds MF_SW_SIMULATED), or
 * MADV_HWPOISON at a temporary mapping for MF_ACTION_REQUIRED. Anything else has no real interface. */
static int op_memory_failure(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  uint32_t flags = (uint32_t)U("flags");
  int action_required = (flags & MF_ACTION_REQUIRED) != 0;
  if (flags & ~(MF_ACTION_REQUIRED | MF_SW_SIMULATED))
    return model_only("memory_failure flags 0x%x: no real injection interface passes them", flags);
  uint64_t pfn = U("pfn");
  void *tmp = NULL;
  if (arg_has(step, "fd") && gmem_pfn(FD("fd"), U("offset"), &pfn, &tmp) < 0) return -1;
  if (action_required && !tmp)
    return model_only("memory_failure(MF_ACTION_REQUIRED) at a bare pfn: MADV_HWPOISON needs a mapping");
  long r;
  int e = 0;
  if (action_required) {
    r = madvise(tmp, PAGE, MADV_HWPOISON);
    e = errno;
    munmap(tmp, PAGE);
  } else {
    if (tmp) munmap(tmp, PAGE);
    r = hwpoison_write("corrupt-pfn", pfn, &e);
    if (r > 0) r = 0; /* memory_failure() returns 0; the debugfs write returns its length */
  }
  emit_ret(o, r, e, ret);
  return 0;
}

static int op_sysctl(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  const char *name = arg_str(step, "name");
  char path[128], text[32];
  snprintf(path, sizeof path, "/proc/sys/%s", name ? name : "");
  for (char *c = path + 10; *c; c++)
    if (*c == '.') *c = '/';
  snprintf(text, sizeof text, "%" PRIu64 "\n", U("value"));
  int e = 0;
  long r = write_file(path, text, &e);
  emit_ret(o, r, e, ret);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ KVM */

static int op_create_vm(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  int kfd = implicit_kvm(s, step, "fd");
  long r = ioctl(kfd, KVM_CREATE_VM, (unsigned long)U("type"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_check_extension(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  int target = arg_has(step, "vm") ? FD("vm") : implicit_kvm(s, step, "fd");
  long r = ioctl(target, KVM_CHECK_EXTENSION, (unsigned long)U("cap"));
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_create_guest_memfd(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  struct kvm_create_guest_memfd g;
  memset(&g, 0, sizeof g);
  g.size = U("size");
  g.flags = U("flags");
  long r = ioctl(FD("vm"), KVM_CREATE_GUEST_MEMFD, &g);
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_set_region(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret, int v2) {
  long r;
  if (v2) {
    struct kvm_userspace_memory_region2 m;
    memset(&m, 0, sizeof m);
    m.slot = (uint32_t)U("slot");
    m.flags = (uint32_t)U("flags");
    m.guest_phys_addr = U("guest_phys_addr");
    m.memory_size = U("memory_size");
    m.userspace_addr = U("userspace_addr");
    m.guest_memfd_offset = U("guest_memfd_offset");
    m.guest_memfd = (uint32_t)U("guest_memfd");
    m.pad1 = (uint32_t)U("pad1");
    m.pad2[0] = U("pad2");
    r = ioctl(FD("vm"), KVM_SET_USER_MEMORY_REGION2, &m);
  } else {
    struct kvm_userspace_memory_region m;
    memset(&m, 0, sizeof m);
    m.slot = (uint32_t)U("slot");
    m.flags = (uint32_t)U("flags");
    m.guest_phys_addr = U("guest_phys_addr");
    m.memory_size = U("memory_size");
    m.userspace_addr = U("userspace_addr");
    r = ioctl(FD("vm"), KVM_SET_USER_MEMORY_REGION, &m);
  }
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_set_attributes(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  struct kvm_memory_attributes a;
  memset(&a, 0, sizeof a);
  a.address = U("address");
  a.size = U("size");
  a.attributes = U("attributes");
  a.flags = U("flags");
  long r = ioctl(FD("vm"), KVM_SET_MEMORY_ATTRIBUTES, &a);
  emit_ret(o, r, errno, ret);
  return 0;
}

static int op_create_vcpu(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  int vm = FD("vm");
  long r = ioctl(vm, KVM_CREATE_VCPU, (unsigned long)U("id"));
  int e = errno;
  if (r >= 0) guest_vcpu_created(s, vm, (int)r);
  emit_ret(o, r, e, ret);
  return 0;
}

/* ------------------------------------------------------------------------------------------------ dispatch */

int run_op(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret) {
  const char *op = json_str(json_get(step, "op"));
  g_model_only[0] = 0;
  *ret = 0;
  if (!op) return model_only("step without an op");
  if (!strcmp(op, "open")) return op_open(s, step, o, ret);
  if (!strcmp(op, "memfd_create")) return op_memfd_create(s, step, o, ret);
  if (!strcmp(op, "close")) return op_close(s, step, o, ret);
  if (!strcmp(op, "dup")) return op_dup(s, step, o, ret);
  if (!strcmp(op, "read")) return op_rw(s, step, o, ret, 0, 0);
  if (!strcmp(op, "write")) return op_rw(s, step, o, ret, 1, 0);
  if (!strcmp(op, "pread")) return op_rw(s, step, o, ret, 0, 1);
  if (!strcmp(op, "pwrite")) return op_rw(s, step, o, ret, 1, 1);
  if (!strcmp(op, "lseek")) return op_lseek(s, step, o, ret);
  if (!strcmp(op, "fstat")) return op_fstat(s, step, o, ret);
  if (!strcmp(op, "ftruncate")) return op_ftruncate(s, step, o, ret);
  if (!strcmp(op, "fallocate")) return op_fallocate(s, step, o, ret);
  if (!strcmp(op, "mmap")) return op_mmap(s, step, o, ret);
  if (!strcmp(op, "munmap")) return op_munmap(s, step, o, ret);
  if (!strcmp(op, "madvise")) return op_madvise(s, step, o, ret);
  if (!strcmp(op, "load")) return op_load(s, step, o, ret);
  if (!strcmp(op, "store")) return op_store(s, step, o, ret);
  if (!strcmp(op, "memset")) return op_memset(s, step, o, ret);
  if (!strcmp(op, "pagemap")) return op_pagemap(s, step, o, ret);
  if (!strcmp(op, "prctl")) return op_prctl(s, step, o, ret);
  if (!strcmp(op, "corrupt_pfn")) return op_hwpoison(s, step, o, ret, "corrupt-pfn");
  if (!strcmp(op, "unpoison_pfn")) return op_hwpoison(s, step, o, ret, "unpoison-pfn");
  if (!strcmp(op, "memory_failure")) return op_memory_failure(s, step, o, ret);
  if (!strcmp(op, "corrupt_frame"))
    return model_only("corrupt_frame: no real interface corrupts a frame without reporting it");
  if (!strcmp(op, "sysctl")) return op_sysctl(s, step, o, ret);
  if (!strcmp(op, "KVM_CREATE_VM")) return op_create_vm(s, step, o, ret);
  if (!strcmp(op, "KVM_CHECK_EXTENSION")) return op_check_extension(s, step, o, ret);
  if (!strcmp(op, "KVM_CREATE_GUEST_MEMFD")) return op_create_guest_memfd(s, step, o, ret);
  if (!strcmp(op, "KVM_SET_USER_MEMORY_REGION")) return op_set_region(s, step, o, ret, 0);
  if (!strcmp(op, "KVM_SET_USER_MEMORY_REGION2")) return op_set_region(s, step, o, ret, 1);
  if (!strcmp(op, "KVM_SET_MEMORY_ATTRIBUTES")) return op_set_attributes(s, step, o, ret);
  if (!strcmp(op, "KVM_CREATE_VCPU")) return op_create_vcpu(s, step, o, ret);
  if (!strcmp(op, "KVM_RUN")) return op_kvm_run(s, step, o, ret);
  return model_only("op %s is not implemented by the oracle runner", op);
}
