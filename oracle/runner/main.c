/* The oracle runner's driver: reads the input, runs each scenario in a process of its own (named "vmm", as the
 * model's VMM) and prints the results. A race scenario runs once per requested run, its threads as pthreads.
 * Usage: runner INPUT.json */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner.h"

#define KVM_USER_MEM_SLOTS 32764
/* Top of the window for the scenario's mappings: below the stack and the runner's own mappings near 0x7fxx... */
#define SCENARIO_MMAP_TOP 0x7e0000000000ULL

struct shared_state *g_shared;

static char *read_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return NULL;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  size_t got = 0;
  while (buf && got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (buf) buf[got] = 0;
  return buf;
}

static void frame_begin(struct jout *o, const char *what, int id) {
  jo_begin(o);
  jo_str(o, "oracle", what);
  if (id >= 0) jo_i64(o, "scenario", id);
}

static void fatal(const char *msg) {
  struct jout o;
  frame_begin(&o, "error", -1);
  jo_str(&o, "message", msg);
  jo_emit(&o);
  exit(2);
}

static unsigned char g_slot_used[KVM_USER_MEM_SLOTS];

static void mark_slots(const struct jnode *steps) {
  for (const struct jnode *st = steps ? steps->child : NULL; st; st = st->next) {
    const struct jnode *slot = json_get(json_get(st, "args"), "slot");
    const char *n = json_str(json_get(slot, "n"));
    if (!n) continue;
    unsigned long long v = strtoull(n, NULL, 0);
    if ((v >> 16) == 0 && (v & 0xffff) < KVM_USER_MEM_SLOTS) g_slot_used[v & 0xffff] = 1;
  }
}

/* The oracle's code memslot takes the highest slot id the scenario never names (address space 0), in any list. */
static int pick_code_slot(const struct jnode *entry) {
  memset(g_slot_used, 0, sizeof g_slot_used);
  mark_slots(json_get(json_get(entry, "scenario"), "steps"));
  const struct jnode *threads = json_get(entry, "threads");
  for (const struct jnode *t = threads ? threads->child : NULL; t; t = t->next) mark_slots(json_get(t, "steps"));
  mark_slots(json_get(entry, "after"));
  for (int i = KVM_USER_MEM_SLOTS - 1; i >= 0; i--)
    if (!g_slot_used[i]) return i;
  return 0;
}

static void emit_signal(struct jout *o) {
  char b1[32], b2[32];
  if (!g_sig.count) return;
  jo_obj(o, "signal");
  jo_str(o, "signo", signal_name(g_sig.first.signo, b1, sizeof b1));
  jo_str(o, "code", signal_code_name(g_sig.first.signo, g_sig.first.code, b2, sizeof b2));
  jo_u64(o, "addr", g_sig.first.addr);
  jo_i64(o, "addr_lsb", g_sig.first.lsb);
  jo_close_obj(o);
}


/* How many steps before stop_step (all, when it is -1) run op. */
static int count_op(const struct jnode *steps, const char *op, int stop_step) {
  int n = 0;
  for (const struct jnode *st = steps ? steps->child : NULL; st; st = st->next) {
    if (stop_step >= 0 && json_int(json_get(st, "index"), 0) >= stop_step) break;
    if (!strcmp(json_str(json_get(st, "op")) ?: "", op)) n++;
  }
  return n;
}

static void set_label(struct scen *s, const char *name, uint64_t value) {
  if (!name) return;
  state_lock();
  if (s->nlabels < MAX_LABELS) {
    snprintf(s->label_name[s->nlabels], sizeof s->label_name[0], "%s", name);
    s->label_value[s->nlabels++] = value;
  }
  state_unlock();
}

static pthread_mutex_t g_state_mutex = PTHREAD_MUTEX_INITIALIZER;
void state_lock(void) { pthread_mutex_lock(&g_state_mutex); }
void state_unlock(void) { pthread_mutex_unlock(&g_state_mutex); }

/* One list of steps run by one thread: the scenario's `steps`, a race thread's list, or `after`. */
struct step_list {
  struct scen *s;
  const struct jnode *steps;
  const char *thread; /* NULL for `steps`: its results carry no thread name, as in the model */
  int stop_step;      /* -1: none */
  const char *stop_reason;
  int dmesg; /* kernel log lines can be told apart only when a single thread runs */
  pthread_barrier_t *start;
};

static void emit_model_only_in(const struct step_list *l, int step, const char *op, const char *reason) {
  struct jout o;
  frame_begin(&o, "model_only", l->s->id);
  if (l->thread) jo_str(&o, "thread", l->thread);
  jo_i64(&o, "step", step);
  jo_str(&o, "op", op ? op : "?");
  jo_str(&o, "reason", reason);
  state_lock();
  jo_emit(&o);
  state_unlock();
}

/* Runs the list; returns 0, or -1 when it stopped at a model-only step. */
static int run_list(const struct step_list *l) {
  struct jout *o = malloc(sizeof *o);
  if (!o) return -1;
  if (l->start) pthread_barrier_wait(l->start);
  for (const struct jnode *st = l->steps ? l->steps->child : NULL; st; st = st->next) {
    int index = (int)json_int(json_get(st, "index"), 0);
    const char *op = json_str(json_get(st, "op"));
    if (index == l->stop_step) {
      emit_model_only_in(l, index, op, l->stop_reason ? l->stop_reason : "model-only");
      free(o);
      return -1;
    }
    if (!l->thread) {
      g_shared->step = index;
      snprintf(g_shared->op, sizeof g_shared->op, "%s", op ? op : "?");
    }
    if (l->dmesg) kmsg_mark();
    signals_reset();
    jo_begin(o);
    jo_i64(o, "step", index);
    jo_str(o, "op", op ? op : "?");
    if (l->thread) jo_str(o, "thread", l->thread);
    uint64_t ret = 0;
    if (run_op(l->s, st, o, &ret) < 0) {
      emit_model_only_in(l, index, op, g_model_only);
      free(o);
      return -1;
    }
    emit_signal(o);
    if (l->dmesg) kmsg_collect(o);
    state_lock();
    jo_emit(o);
    state_unlock();
    set_label(l->s, json_str(json_get(st, "as")), ret);
  }
  free(o);
  return 0;
}

static void scen_init(struct scen *s, int id, const struct jnode *entry) {
  memset(s, 0, sizeof *s);
  s->id = id;
  s->steps = json_get(json_get(entry, "scenario"), "steps");
  s->implicit_kvm_fd = -1;
  s->code_slot = pick_code_slot(entry);
  s->mmap_cursor = SCENARIO_MMAP_TOP;
}

/* Runs the steps of one scenario in the current (scenario) process. */
static void run_steps(int id, const struct jnode *entry, const struct jnode *stop) {
  static struct scen s;
  scen_init(&s, id, entry);
  int stop_step = stop ? (int)json_int(json_get(stop, "step"), -1) : -1;
  unpoison_pace(count_op(s.steps, "unpoison_pfn", stop_step));
  struct step_list l = {&s, s.steps, NULL, stop_step, json_str(json_get(stop, "reason")), 1, NULL};
  run_list(&l);
}

static void *thread_main(void *arg) {
  run_list(arg);
  return NULL;
}

/* One run of a race scenario: `steps`, then one pthread per scenario thread, started together, then `after`. */
static void run_race(int id, const struct jnode *entry) {
  static struct scen s;
  const struct jnode *threads = json_get(entry, "threads");
  scen_init(&s, id, entry);
  g_watchdog = 0;
  struct step_list setup = {&s, s.steps, NULL, -1, NULL, 1, NULL};
  if (run_list(&setup) < 0) return;
  int n = 0;
  for (const struct jnode *t = threads ? threads->child : NULL; t; t = t->next) n++;
  pthread_t tid[64];
  struct step_list lists[64];
  pthread_barrier_t start;
  if (n > 64) n = 64;
  pthread_barrier_init(&start, NULL, (unsigned)n);
  int i = 0;
  for (const struct jnode *t = threads ? threads->child : NULL; t && i < n; t = t->next, i++) {
    lists[i] = (struct step_list){&s, json_get(t, "steps"), json_str(json_get(t, "name")), -1, NULL, 0, &start};
    pthread_create(&tid[i], NULL, thread_main, &lists[i]);
  }
  for (int j = 0; j < i; j++) pthread_join(tid[j], NULL);
  pthread_barrier_destroy(&start);
  struct step_list after = {&s, json_get(entry, "after"), "after", -1, NULL, 1, NULL};
  run_list(&after);
}

/* System-wide state a scenario may change (the sysctl op), saved at start and put back after every scenario, so
 * scenarios sharing one boot stay independent and a --host run leaves the machine as it found it. */
static const char *const SYSCTL_FILES[] = {"/proc/sys/vm/memory_failure_early_kill",
                                           "/proc/sys/vm/memory_failure_recovery"};
#define NSYSCTL (sizeof SYSCTL_FILES / sizeof SYSCTL_FILES[0])
static char saved_sysctl[NSYSCTL][32];

static void read_text(const char *path, char *buf, size_t cap) {
  buf[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, cap - 1);
  buf[n > 0 ? n : 0] = 0;
  close(fd);
}

static void save_sysctls(void) {
  for (size_t i = 0; i < NSYSCTL; i++) read_text(SYSCTL_FILES[i], saved_sysctl[i], sizeof saved_sysctl[i]);
}

static void restore_sysctls(void) {
  char now[32];
  for (size_t i = 0; i < NSYSCTL; i++) {
    read_text(SYSCTL_FILES[i], now, sizeof now);
    if (!saved_sysctl[i][0] || !strcmp(now, saved_sysctl[i])) continue;
    int fd = open(SYSCTL_FILES[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    write_all(fd, saved_sysctl[i], strlen(saved_sysctl[i]));
    close(fd);
  }
}

static void describe_status(int st, char *buf, size_t cap) {
  if (WIFSIGNALED(st)) {
    char b[16];
    snprintf(buf, cap, "killed by %s", signal_name(WTERMSIG(st), b, sizeof b));
  } else {
    snprintf(buf, cap, "exit %d", WEXITSTATUS(st));
  }
}

/* One process for one run of the scenario (a sequential run, or one run of a race). */
static int run_process(int id, const struct jnode *entry, int race) {
  g_shared->step = -1;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, "vmm");
    signals_install();
    kmsg_open();
    if (race) run_race(id, entry);
    else run_steps(id, entry, json_get(entry, "stop"));
    _exit(0);
  }
  struct jout o;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  char status[64];
  describe_status(st, status, sizeof status);
  if (WIFSIGNALED(st)) {
    frame_begin(&o, "killed", id);
    jo_i64(&o, "step", g_shared->step);
    jo_str(&o, "op", g_shared->op);
    jo_str(&o, "status", status);
    jo_emit(&o);
  }
  restore_sysctls();
  frame_begin(&o, race ? "race_end" : "end", id);
  jo_str(&o, "status", status);
  jo_emit(&o);
  return st;
}

static void run_scenario(const struct jnode *entry) {
  struct jout o;
  int id = (int)json_int(json_get(entry, "id"), 0);
  const struct jnode *compiled = json_get(entry, "scenario");
  frame_begin(&o, "begin", id);
  jo_str(&o, "file", json_str(json_get(entry, "file")) ?: "");
  jo_str(&o, "name", json_str(json_get(compiled, "name")) ?: "");
  jo_emit(&o);
  int runs = (int)json_int(json_get(json_get(entry, "race"), "runs"), 0);
  if (runs <= 0) {
    run_process(id, entry, 0);
    return;
  }
  for (int r = 0; r < runs; r++) {
    frame_begin(&o, "race_run", id);
    jo_i64(&o, "run", r);
    jo_emit(&o);
    run_process(id, entry, 1);
  }
  frame_begin(&o, "end", id);
  jo_str(&o, "status", "race done");
  jo_emit(&o);
}

/* Seconds since boot: the driver's timings split a QEMU run into boot and scenario time. */
static double uptime(void) {
  char b[64] = "";
  int fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, b, sizeof b - 1);
    b[n > 0 ? n : 0] = 0;
    close(fd);
  }
  return strtod(b, NULL);
}

static void jo_seconds(struct jout *o, const char *key, double v) {
  jo_i64(o, key, (int64_t)(v * 1000));
}

static void emit_meta(int kvm_fd) {
  struct jout o;
  struct utsname u;
  uname(&u);
  frame_begin(&o, "meta", -1);
  jo_str(&o, "format", "gmemsim-oracle/1");
  jo_str(&o, "kernel", u.release);
  jo_bool(&o, "kvm", kvm_fd >= 0);
  jo_i64(&o, "maxphyaddr", g_maxphyaddr);
  jo_seconds(&o, "uptime_ms", uptime());
  jo_emit(&o);
}

int main(int argc, char **argv) {
  const char *err = NULL;
  if (argc != 2) fatal("usage: gmemsim-oracle-runner INPUT.json");
  char *text = read_file(argv[1]);
  if (!text) fatal("cannot read the input file");
  struct jnode *in = json_parse(text, &err);
  if (!in) fatal(err);
  if (strcmp(json_str(json_get(in, "format")) ?: "", "gmemsim-oracle-input/1") != 0)
    fatal("input format is not gmemsim-oracle-input/1");
  g_shared = mmap(NULL, sizeof *g_shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_shared == MAP_FAILED) fatal("cannot map the shared state page");
  save_sysctls();
  int kvm_fd = helper_kvm_fd();
  guest_init(kvm_fd);
  emit_meta(kvm_fd);
  const struct jnode *list = json_get(in, "scenarios");
  for (const struct jnode *e = list ? list->child : NULL; e; e = e->next) run_scenario(e);
  struct jout o;
  frame_begin(&o, "done", -1);
  jo_seconds(&o, "uptime_ms", uptime());
  jo_emit(&o);
  return 0;
}
