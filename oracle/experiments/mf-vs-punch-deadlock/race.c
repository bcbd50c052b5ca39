/* mf-vs-punch-deadlock: memory_failure() on a guest_memfd page racing a punch-hole of the same page.
 *
 * The lock order under test (mainline, Debian 6.18.15 and 7.3.4):
 *   A  memory_failure() (mm/memory-failure.c) locks the folio, then identify_page_state() -> me_pagecache_clean()
 *      -> truncate_error_folio() -> kvm_gmem_error_folio() (virt/kvm/guest_memfd.c), which takes
 *      filemap_invalidate_lock_shared(): folio lock, then invalidate_lock (read).
 *   B  kvm_gmem_fallocate() -> kvm_gmem_punch_hole() takes filemap_invalidate_lock() (write), then
 *      truncate_inode_pages_range() (mm/truncate.c) sleeps on the same folio's lock, in __filemap_get_folio(FGP_LOCK)
 *      for the edge folio or in folio_lock() of its second pass: invalidate_lock, then folio lock.
 *
 * Thread A (CPU 0) poisons one page of a mapped guest_memfd: madvise(MADV_HWPOISON) through the mapping, or the
 * page's pfn written to debugfs hwpoison/corrupt-pfn. Thread B (CPU 1) punches the same page out of the file.
 * Both leave a spin rendezvous together; then one of them busy-waits a delay, swept over [dmin, dmax] one step per
 * iteration (delay > 0 holds B back, < 0 holds A back). The main thread faults a fresh page in before each
 * iteration and cleans up after it. A watchdog declares a hang when no iteration completes for WD seconds: it
 * reports both threads' state, wchan, syscall and kernel stack, asks for sysrq-w, relays the kernel log while the
 * hung-task detector (made fast at start-up) reports, reports the threads again, and powers the machine off: the
 * two threads can never exit.
 *
 * Controls: "shmem" runs the same race on a memfd page (shmem has no invalidate_lock in its error path);
 * "serial" is "madvise" with B waiting for A's syscall to return, so the two never overlap.
 *
 * Output: one JSON object per line on stdout (the second serial port), {"exp": KIND, ...}. The kinds and their
 * fields are what src/oracle/experiment-parse.ts reads.
 *
 * Usage: race MODE SECONDS WD_SECONDS DMIN_NS DMAX_NS DSTEP_NS       MODE: madvise | pfn | shmem | serial
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

#define PAGE 4096UL
#define NPAGES 64
#define DETAILED_ITERS 16   /* the first iterations are reported one by one */
#define HUNG_WAIT_S 25      /* how long the watchdog relays the kernel log after a hang */
#define HUNG_TIMEOUT_S "5\n" /* hung_task_timeout_secs while the experiment runs */

enum mode { M_MADVISE, M_PFN, M_SHMEM, M_SERIAL };
static const char *const MODE_NAMES[] = {"madvise", "pfn", "shmem", "serial"};

/* What one iteration turned out to be, judged by the node's memory_failure counters and the page's pfn. */
enum cls { C_PUNCH_FIRST, C_MF_IGNORED, C_MF_FIRST, C_OTHER, C_COUNT };
static const char *const CLS_NAMES[] = {"punch_first", "mf_ignored", "mf_first", "other"};

static enum mode g_mode;
static long g_seconds, g_wd_seconds, g_dmin, g_dmax, g_dstep;
static int g_fd, g_pagemap = -1;
static char *g_map;
static pid_t g_tid_a, g_tid_b;

/* The iteration A and B work on; written by main before the start barrier. */
static long g_iter, g_idx, g_delay;
static unsigned g_round; /* rounds A and B really ran (iterations whose page could not be prepared are skipped) */
static uint64_t g_pfn;
static atomic_uint g_meet;   /* A and B each add 1 per iteration: the spin rendezvous */
static atomic_int g_a_done;  /* serial mode: B waits for this */
static atomic_long g_completed;
static volatile int g_stop;
static long g_a_ret, g_a_errno, g_b_ret, g_b_errno;
static int64_t g_a_t0, g_a_t1, g_b_t0, g_b_t1;
static pthread_barrier_t g_start, g_end;
static atomic_int g_sigbus;

/* ----------------------------------------------------------------------------------------------- JSON lines */

struct line {
  char buf[16384];
  size_t len;
  int first;
};

static pthread_mutex_t g_out = PTHREAD_MUTEX_INITIALIZER;

static void put(struct line *l, const char *s, size_t n) {
  if (l->len + n + 3 >= sizeof l->buf) return; /* a cut line fails to parse on the host: loud, not silent */
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

static void put_str(struct line *l, const char *s) {
  char esc[8];
  put(l, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      put(l, esc, 2);
    } else if (c < 0x20 || c >= 0x7f) { /* kernel log text is ASCII; anything else is escaped, not guessed */
      snprintf(esc, sizeof esc, "\\u%04x", c);
      put(l, esc, 6);
    } else {
      put(l, (const char *)&c, 1);
    }
  }
  put(l, "\"", 1);
}

static void key(struct line *l, const char *k) {
  if (!l->first) put(l, ",", 1);
  l->first = 0;
  put_str(l, k);
  put(l, ":", 1);
}

static void begin(struct line *l, const char *kind) {
  l->len = 0;
  l->first = 1;
  put(l, "{", 1);
  key(l, "exp");
  put_str(l, kind);
}

static void kv_str(struct line *l, const char *k, const char *v) {
  key(l, k);
  put_str(l, v);
}

static void kv_int(struct line *l, const char *k, long long v) {
  char b[32];
  key(l, k);
  put(l, b, (size_t)snprintf(b, sizeof b, "%lld", v));
}

static void kv_bool(struct line *l, const char *k, int v) {
  key(l, k);
  put(l, v ? "true" : "false", v ? 4 : 5);
}

/* A string array from text: one element per non-empty line. */
static void kv_lines(struct line *l, const char *k, const char *text) {
  key(l, k);
  put(l, "[", 1);
  int first = 1;
  char tmp[512];
  while (*text) {
    size_t n = strcspn(text, "\n");
    if (n > 0) {
      snprintf(tmp, sizeof tmp, "%.*s", (int)(n < sizeof tmp - 1 ? n : sizeof tmp - 1), text);
      if (!first) put(l, ",", 1);
      first = 0;
      put_str(l, tmp);
    }
    text += n;
    if (*text) text++;
  }
  put(l, "]", 1);
}

static void emit(struct line *l) {
  put(l, "}\n", 2);
  pthread_mutex_lock(&g_out);
  fwrite(l->buf, 1, l->len, stdout);
  fflush(stdout);
  pthread_mutex_unlock(&g_out);
}

static void fail(const char *what) {
  struct line l;
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  begin(&l, "error");
  kv_str(&l, "message", msg);
  emit(&l);
  exit(2);
}

/* ----------------------------------------------------------------------------------------------- helpers */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long uptime_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void spin_until(int64_t t) {
  while (now_ns() < t) __builtin_ia32_pause();
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set); /* with one CPU this fails, and the race relies on preemption */
}

static long write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  long r = write(fd, text, strlen(text));
  if (r < 0) r = -errno;
  close(fd);
  return r;
}

/* Reads a small file into buf (NUL-terminated); returns the length or -errno. */
static long read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    buf[0] = 0;
    return -errno;
  }
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = 0;
  return (long)got;
}

static long hwpoison_debugfs(const char *file, uint64_t pfn) {
  char path[96], text[32];
  snprintf(path, sizeof path, "/sys/kernel/debug/hwpoison/%s", file);
  snprintf(text, sizeof text, "0x%llx\n", (unsigned long long)pfn);
  return write_file(path, text);
}

static uint64_t pagemap_entry(const void *addr) {
  uint64_t e = 0;
  if (pread(g_pagemap, &e, sizeof e, (off_t)((uintptr_t)addr / PAGE * sizeof e)) != (ssize_t)sizeof e) e = 0;
  return e;
}

#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_PFN_MASK ((1ULL << 55) - 1)

/* The node's memory_failure statistics (mm/memory-failure.c, MF_* results): total ignored failed delayed
 * recovered. Absent (all zero) on kernels without them; the classes then say "other". */
enum { S_TOTAL, S_IGNORED, S_FAILED, S_DELAYED, S_RECOVERED, S_COUNT };
static const char *const STAT_FILES[] = {"total", "ignored", "failed", "delayed", "recovered"};
static int g_stat_fd[S_COUNT];

static void mf_stats(long *v) {
  char b[32];
  for (int i = 0; i < S_COUNT; i++) {
    v[i] = 0;
    if (g_stat_fd[i] < 0) continue;
    ssize_t n = pread(g_stat_fd[i], b, sizeof b - 1, 0);
    b[n > 0 ? n : 0] = 0;
    v[i] = strtol(b, NULL, 10);
  }
}

static void on_sigbus(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)si;
  (void)uc;
  atomic_fetch_add(&g_sigbus, 1); /* a poisoned page touched; the iteration's checks say what happened */
}

/* ----------------------------------------------------------------------------------------------- A and B */

/* Both threads spin here until the other has arrived for this iteration. */
static void meet(void) {
  unsigned target = 2u * g_round;
  atomic_fetch_add(&g_meet, 1);
  while (atomic_load(&g_meet) < target) __builtin_ia32_pause();
}

static void *thread_a(void *unused) {
  (void)unused;
  pin(0);
  prctl(PR_SET_NAME, "memfail-A");
  g_tid_a = (pid_t)syscall(SYS_gettid);
  for (;;) {
    pthread_barrier_wait(&g_start);
    if (g_stop) return NULL;
    meet();
    int64_t t = now_ns();
    if (g_delay < 0) spin_until(t - g_delay);
    g_a_t0 = now_ns() - t;
    if (g_mode == M_PFN) {
      g_a_ret = hwpoison_debugfs("corrupt-pfn", g_pfn);
      g_a_errno = g_a_ret < 0 ? -g_a_ret : 0;
    } else {
      g_a_ret = madvise(g_map + g_idx * PAGE, PAGE, MADV_HWPOISON);
      g_a_errno = g_a_ret < 0 ? errno : 0;
    }
    g_a_t1 = now_ns() - t;
    atomic_store(&g_a_done, 1);
    pthread_barrier_wait(&g_end);
  }
}

static void *thread_b(void *unused) {
  (void)unused;
  pin(1);
  prctl(PR_SET_NAME, "punch-B");
  g_tid_b = (pid_t)syscall(SYS_gettid);
  for (;;) {
    pthread_barrier_wait(&g_start);
    if (g_stop) return NULL;
    meet();
    int64_t t = now_ns();
    if (g_delay > 0) spin_until(t + g_delay);
    if (g_mode == M_SERIAL)
      while (!atomic_load(&g_a_done)) __builtin_ia32_pause();
    g_b_t0 = now_ns() - t;
    g_b_ret = fallocate(g_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, g_idx * (off_t)PAGE, PAGE);
    g_b_errno = g_b_ret < 0 ? errno : 0;
    g_b_t1 = now_ns() - t;
    pthread_barrier_wait(&g_end);
  }
}

/* ----------------------------------------------------------------------------------------------- watchdog */

/* One thread as /proc shows it: state letter, wchan, syscall line, kernel stack. */
static void report_task(const char *role, pid_t tid, int pass) {
  char path[96], stat[1024], wchan[128], sc[256], stack[4096];
  struct line l;
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  read_file(path, stat, sizeof stat);
  snprintf(path, sizeof path, "/proc/self/task/%d/wchan", tid);
  read_file(path, wchan, sizeof wchan);
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  read_file(path, sc, sizeof sc);
  sc[strcspn(sc, "\n")] = 0;
  snprintf(path, sizeof path, "/proc/self/task/%d/stack", tid);
  if (read_file(path, stack, sizeof stack) < 0) snprintf(stack, sizeof stack, "(unreadable: %s)", strerror(errno));
  const char *paren = strrchr(stat, ')'); /* the state letter follows "(comm) " */
  char state[2] = {paren && paren[1] && paren[2] ? paren[2] : '?', 0};
  begin(&l, "task");
  kv_str(&l, "role", role);
  kv_int(&l, "pass", pass);
  kv_int(&l, "tid", tid);
  kv_str(&l, "state", state);
  kv_str(&l, "wchan", wchan);
  kv_str(&l, "syscall", sc);
  kv_lines(&l, "stack", stack);
  emit(&l);
}

/* Relays /dev/kmsg records as "kmsg" lines. Returns how many it relayed. */
static int relay_kmsg(int fd, int *seen_a, int *seen_b, int *seen_owner) {
  char rec[2048], needle_a[48], needle_b[48];
  int n_out = 0;
  snprintf(needle_a, sizeof needle_a, ":%d blocked ", g_tid_a);
  snprintf(needle_b, sizeof needle_b, ":%d blocked ", g_tid_b);
  for (;;) {
    ssize_t n = read(fd, rec, sizeof rec - 1);
    if (n < 0 && errno == EPIPE) continue; /* overwritten before we read it */
    if (n <= 0) break;
    rec[n] = 0;
    /* "prio,seq,usec,flags;text\n" then dictionary lines */
    int prio = atoi(rec);
    char *c1 = strchr(rec, ',');
    char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    long long usec = c2 ? atoll(c2 + 1) : 0;
    char *text = strchr(rec, ';');
    text = text ? text + 1 : rec;
    text[strcspn(text, "\n")] = 0;
    if (strstr(text, needle_a)) *seen_a = 1;
    if (strstr(text, needle_b)) *seen_b = 1;
    if (strstr(text, "likely owned by")) *seen_owner = 1;
    struct line l;
    begin(&l, "kmsg");
    kv_int(&l, "level", prio & 7);
    kv_int(&l, "usec", usec);
    kv_str(&l, "text", text);
    emit(&l);
    n_out++;
  }
  return n_out;
}

static void on_hang(long completed, int64_t stalled_ns) {
  struct line l;
  begin(&l, "hang");
  kv_int(&l, "iteration", g_iter);
  kv_int(&l, "completed", completed);
  kv_int(&l, "idx", g_idx);
  kv_int(&l, "delay_ns", g_delay);
  kv_int(&l, "pfn", (long long)g_pfn);
  kv_int(&l, "stalled_ms", stalled_ns / 1000000);
  kv_int(&l, "uptime_ms", uptime_ms());
  emit(&l);
  int kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (kfd >= 0) lseek(kfd, 0, SEEK_END); /* from here on: sysrq-w and the hung-task reports */
  report_task("A", g_tid_a, 1);
  report_task("B", g_tid_b, 1);
  write_file("/proc/sysrq-trigger", "w"); /* show blocked tasks, with their full traces, in the kernel log */
  int seen_a = 0, seen_b = 0, seen_owner = 0;
  int64_t deadline = now_ns() + HUNG_WAIT_S * 1000000000LL;
  while (kfd >= 0 && now_ns() < deadline) {
    relay_kmsg(kfd, &seen_a, &seen_b, &seen_owner);
    if (seen_a && seen_b && seen_owner) break;
    usleep(200000);
  }
  if (kfd >= 0) relay_kmsg(kfd, &seen_a, &seen_b, &seen_owner);
  report_task("A", g_tid_a, 2);
  report_task("B", g_tid_b, 2);
  begin(&l, "result");
  kv_bool(&l, "hung", 1);
  kv_int(&l, "iterations", completed);
  kv_int(&l, "sigbus", atomic_load(&g_sigbus));
  kv_int(&l, "uptime_ms", uptime_ms());
  emit(&l);
  /* A and B sleep uninterruptibly for good: exiting would leave /init waiting on us, so power off here. */
  tcdrain(STDOUT_FILENO);
  sleep(1);
  sync();
  reboot(RB_POWER_OFF);
}

static void *watchdog(void *unused) {
  (void)unused;
  prctl(PR_SET_NAME, "watchdog");
  long last = -1;
  int64_t since = now_ns();
  for (;;) {
    usleep(200000);
    if (g_stop) return NULL;
    long done = atomic_load(&g_completed);
    int64_t t = now_ns();
    if (done != last) {
      last = done;
      since = t;
    } else if (t - since >= g_wd_seconds * 1000000000LL) {
      on_hang(done, t - since);
      return NULL;
    }
  }
}

/* ----------------------------------------------------------------------------------------------- main */

static void setup_file(void) {
  if (g_mode == M_SHMEM) {
    g_fd = memfd_create("race-shmem", MFD_CLOEXEC);
    if (g_fd < 0) fail("memfd_create");
    if (ftruncate(g_fd, NPAGES * PAGE)) fail("ftruncate");
    return;
  }
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) fail("/dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) fail("KVM_CREATE_VM");
  /* mmap-able and shared from the start, so the host can fault pages in and poison them through the mapping */
  struct kvm_create_guest_memfd g = {.size = NPAGES * PAGE,
                                     .flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED};
  g_fd = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &g);
  if (g_fd < 0) fail("KVM_CREATE_GUEST_MEMFD");
}

static enum cls classify(const long *s0, const long *s1, uint64_t pfn0, uint64_t pfn_now) {
  int shmem = g_mode == M_SHMEM;
  if (s1[S_IGNORED] > s0[S_IGNORED]) return C_MF_IGNORED; /* "already truncated LRU page": punched under MF */
  /* the punch won: madvise faulted in and poisoned a new page, or corrupt-pfn hit the freed page */
  if (pfn_now != pfn0 || (!shmem && s1[S_RECOVERED] > s0[S_RECOVERED])) return C_PUNCH_FIRST;
  /* memory_failure finished with the page still in the file: guest_memfd's handler leaves it there (MF_DELAYED,
   * reported as "Failed to punch page", -EBUSY); shmem's removes it (MF_RECOVERED), or fails with -EBUSY when the
   * punch holds a reference ("clean LRU page still referenced"): the overlap that deadlocks guest_memfd */
  if (s1[S_FAILED] > s0[S_FAILED] && g_a_errno == EBUSY) return C_MF_FIRST;
  if (shmem && s1[S_RECOVERED] > s0[S_RECOVERED] && g_a_errno == 0) return C_MF_FIRST;
  return C_OTHER;
}

static void report_iteration(long it, enum cls c, const long *s0, const long *s1, uint64_t pfn0, uint64_t pfn_now) {
  struct line l;
  begin(&l, "iter");
  kv_int(&l, "iteration", it);
  kv_int(&l, "delay_ns", g_delay);
  kv_str(&l, "class", CLS_NAMES[c]);
  kv_int(&l, "a_start_us", g_a_t0 / 1000);
  kv_int(&l, "a_end_us", g_a_t1 / 1000);
  kv_int(&l, "a_ret", g_a_ret);
  kv_int(&l, "a_errno", g_a_errno);
  kv_int(&l, "b_start_us", g_b_t0 / 1000);
  kv_int(&l, "b_end_us", g_b_t1 / 1000);
  kv_int(&l, "b_ret", g_b_ret);
  kv_int(&l, "b_errno", g_b_errno);
  kv_int(&l, "pfn", (long long)pfn0);
  kv_int(&l, "poisoned_pfn", (long long)pfn_now);
  for (int i = 0; i < S_COUNT; i++) {
    char k[32];
    snprintf(k, sizeof k, "mf_%s", STAT_FILES[i]);
    kv_int(&l, k, s1[i] - s0[i]);
  }
  emit(&l);
}

static void report_counts(const char *kind, long iterations, const long *classes, long prep_failed,
                          long unpoison_failed, int64_t t0) {
  struct line l;
  begin(&l, kind);
  if (!strcmp(kind, "result")) kv_bool(&l, "hung", 0);
  kv_int(&l, "iterations", iterations);
  for (int c = 0; c < C_COUNT; c++) kv_int(&l, CLS_NAMES[c], classes[c]);
  kv_int(&l, "prepare_failed", prep_failed);
  kv_int(&l, "unpoison_failed", unpoison_failed);
  kv_int(&l, "sigbus", atomic_load(&g_sigbus));
  kv_int(&l, "elapsed_ms", (now_ns() - t0) / 1000000);
  kv_int(&l, "uptime_ms", uptime_ms());
  emit(&l);
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s madvise|pfn|shmem|serial SECONDS WD_SECONDS DMIN_NS DMAX_NS DSTEP_NS\n", argv[0]);
    return 2;
  }
  int mode = -1;
  for (int m = 0; m < 4; m++)
    if (!strcmp(argv[1], MODE_NAMES[m])) mode = m;
  g_mode = (enum mode)mode;
  if (mode < 0) {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  g_seconds = atol(argv[2]);
  g_wd_seconds = atol(argv[3]);
  g_dmin = atol(argv[4]);
  g_dmax = atol(argv[5]);
  g_dstep = atol(argv[6]) > 0 ? atol(argv[6]) : 1;
  if (g_dmax < g_dmin) g_dmax = g_dmin;

  struct utsname u;
  uname(&u);
  /* fast hung-task reports: blocked 5 s, checked every 2 s (kernel/hung_task.c) */
  long hung = write_file("/proc/sys/kernel/hung_task_timeout_secs", HUNG_TIMEOUT_S);
  write_file("/proc/sys/kernel/hung_task_check_interval_secs", "2\n");
  struct line l;
  begin(&l, "start");
  kv_str(&l, "kernel", u.release);
  kv_str(&l, "mode", MODE_NAMES[g_mode]);
  kv_int(&l, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
  kv_int(&l, "seconds", g_seconds);
  kv_int(&l, "watchdog_s", g_wd_seconds);
  kv_int(&l, "delay_min_ns", g_dmin);
  kv_int(&l, "delay_max_ns", g_dmax);
  kv_int(&l, "delay_step_ns", g_dstep);
  kv_bool(&l, "hung_task_detector", hung > 0);
  kv_int(&l, "pid", getpid());
  kv_int(&l, "uptime_ms", uptime_ms());
  emit(&l);

  struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO | SA_RESTART};
  sigaction(SIGBUS, &sa, NULL);
  setup_file();
  g_map = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, g_fd, 0);
  if (g_map == MAP_FAILED) fail("mmap");
  g_pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (g_pagemap < 0) fail("/proc/self/pagemap");
  for (int i = 0; i < S_COUNT; i++) {
    char path[96];
    snprintf(path, sizeof path, "/sys/devices/system/node/node0/memory_failure/%s", STAT_FILES[i]);
    g_stat_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
  }

  pthread_barrier_init(&g_start, NULL, 3);
  pthread_barrier_init(&g_end, NULL, 3);
  pthread_t ta, tb, tw;
  pthread_create(&ta, NULL, thread_a, NULL);
  pthread_create(&tb, NULL, thread_b, NULL);
  pthread_create(&tw, NULL, watchdog, NULL);

  long steps = (g_dmax - g_dmin) / g_dstep + 1;
  long classes[C_COUNT] = {0}, prep_failed = 0, unpoison_failed = 0, others = 0;
  int64_t t0 = now_ns(), last_progress = t0;
  long it = 0;
  for (; now_ns() - t0 < g_seconds * 1000000000LL; it++) {
    long idx = it % NPAGES;
    char *page = g_map + idx * PAGE;
    /* a fresh, clean, mapped page: drop our PTE, then read-fault it back in */
    madvise(page, PAGE, MADV_DONTNEED);
    (void)*(volatile char *)page;
    uint64_t e = pagemap_entry(page);
    if (!(e & PM_PRESENT)) {
      prep_failed++;
      atomic_fetch_add(&g_completed, 1); /* not a hang: the watchdog only watches for stuck iterations */
      continue;
    }
    uint64_t pfn0 = e & PM_PFN_MASK;
    long s0[S_COUNT], s1[S_COUNT];
    mf_stats(s0);
    g_iter = it;
    g_idx = idx;
    g_pfn = pfn0;
    g_delay = g_dmin + (it % steps) * g_dstep;
    g_round++;
    atomic_store(&g_a_done, 0);
    pthread_barrier_wait(&g_start);
    pthread_barrier_wait(&g_end);
    atomic_fetch_add(&g_completed, 1);
    mf_stats(s1);
    /* where the poison landed: a hwpoison swap entry in our PTE carries the pfn in its offset */
    e = pagemap_entry(page);
    uint64_t pfn_now = ((e & PM_SWAP) && !(e & PM_PRESENT)) ? (e & PM_PFN_MASK) >> 5 : pfn0;
    enum cls c = classify(s0, s1, pfn0, pfn_now);
    classes[c]++;
    if (it < DETAILED_ITERS || (c == C_OTHER && ++others <= 8)) report_iteration(it, c, s0, s1, pfn0, pfn_now);
    /* clean up: the poisoned PTE, the page if it is still in the file, and the poison itself */
    madvise(page, PAGE, MADV_DONTNEED);
    fallocate(g_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, idx * (off_t)PAGE, PAGE);
    if (hwpoison_debugfs("unpoison-pfn", pfn_now) < 0) unpoison_failed++;
    if (now_ns() - last_progress >= 5000000000LL) {
      last_progress = now_ns();
      report_counts("progress", it + 1, classes, prep_failed, unpoison_failed, t0);
    }
  }
  g_stop = 1;
  report_counts("result", it, classes, prep_failed, unpoison_failed, t0);
  pthread_barrier_wait(&g_start); /* lets A and B see g_stop and return */
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_join(tw, NULL);
  return 0;
}
