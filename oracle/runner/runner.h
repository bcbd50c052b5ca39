/*
 * gmemsim oracle runner: executes compiled gmemsim scenarios with real syscalls on a real Linux kernel and prints
 * one JSON object per step, in the format of `gmemsim run --json`.
 *
 * Built with -D_GNU_SOURCE (fallocate, memfd, strerror helpers).
 *
 * Input: the file named on the command line, {"format":"gmemsim-oracle-input/1","scenarios":[...]}; each entry
 * holds a compiled scenario (src/scenario/compile.ts) plus where the oracle must stop because the rest of the
 * scenario can only run on the model. Output (stdout): framing lines {"oracle":...} and step lines {"step":...}.
 */
#ifndef GMEMSIM_RUNNER_H
#define GMEMSIM_RUNNER_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

/* ------------------------------------------------------------------------------------------------ json.c */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
  enum jtype type;
  const char *str;     /* J_STR: the decoded string; J_NUM: the literal */
  int boolean;         /* J_BOOL */
  const char *key;     /* set when the node is a member of an object */
  struct jnode *child; /* first element or member */
  struct jnode *next;  /* next sibling */
};

/* Parses text (NUL-terminated); returns NULL and sets *err on malformed input. */
struct jnode *json_parse(const char *text, const char **err);
struct jnode *json_get(const struct jnode *obj, const char *key);
long long json_int(const struct jnode *n, long long dflt);
const char *json_str(const struct jnode *n);

/* ------------------------------------------------------------------------------------------------ out.c */

/* A JSON object being written; fields are appended in order and the line is emitted with one write(). */
struct jout {
  char buf[65536];
  size_t len;
  int depth_first[16];
  int depth;
};

void jo_begin(struct jout *o);
void jo_key(struct jout *o, const char *key);
void jo_obj(struct jout *o, const char *key);
void jo_arr(struct jout *o, const char *key);
void jo_close_obj(struct jout *o);
void jo_close_arr(struct jout *o);
void jo_str(struct jout *o, const char *key, const char *v);
void jo_i64(struct jout *o, const char *key, int64_t v);
void jo_u64(struct jout *o, const char *key, uint64_t v);
void jo_bool(struct jout *o, const char *key, int v);
void jo_null(struct jout *o, const char *key);
void jo_emit(struct jout *o);
void write_all(int fd, const char *s, size_t n);

/* ------------------------------------------------------------------------------------------------ names (generated) */

const char *errno_name(int e, char *buf, size_t cap);
const char *exit_reason_name(unsigned r, char *buf, size_t cap);
const char *signal_name(int signo, char *buf, size_t cap);
const char *signal_code_name(int signo, int code, char *buf, size_t cap);
/* memory_fault flag names, in the model's order, unknown bits as one hex remainder */
void memory_fault_flags(struct jout *o, const char *key, uint64_t flags);

/* ------------------------------------------------------------------------------------------------ signals.c */

struct sigrec {
  int signo, code, lsb;
  uint64_t addr;
};

struct sigstate {
  struct sigrec first;
  int count;
  volatile int armed;
  sigjmp_buf jb;
  volatile int alarm_fired;
};

/* per thread: a race scenario's threads fault and take signals independently */
extern __thread struct sigstate g_sig;
void signals_install(void);
void signals_reset(void);
/* Runs a guarded user-mode access; returns 0 when it completed, 1 when a signal interrupted it. */
int guarded_load(uint64_t addr, int size, uint64_t *value);
int guarded_store(uint64_t addr, int size, uint64_t value);
/* memset page by page, ascending; returns 0 when complete, 1 when a signal stopped it */
int guarded_memset(uint64_t addr, int value, uint64_t length);

/* ------------------------------------------------------------------------------------------------ kmsg.c */

void kmsg_open(void);
void kmsg_mark(void);
/* Appends "dmesg":[...] with the records logged since kmsg_mark(), if any. */
void kmsg_collect(struct jout *o);

/* ------------------------------------------------------------------------------------------------ scenario state */

#define MAX_LABELS 512
#define MAX_VMS 64
#define MAX_VCPUS 64

struct vmrec {
  int fd;              /* the VM fd the record was made for; -1 once the scenario closed it */
  int code_ready;      /* the oracle's code memslot exists */
  int code_errno;      /* why it could not be created */
  uint8_t *code_host;  /* host view of the code memslot */
  uint64_t code_gpa;
  int pdpt_used;       /* PDPT pages allocated from the pool */
  int nareas;          /* per-vCPU code areas handed out */
};

struct vcpurec {
  int fd;
  struct vmrec *vm;
  struct kvm_run *run;
  int setup_errno; /* nonzero when the oracle could not prepare the vCPU for 64-bit guest code */
  uint64_t area;   /* offset of its code area in the code memslot */
};

struct scen {
  const struct jnode *steps;
  char label_name[MAX_LABELS][64];
  uint64_t label_value[MAX_LABELS];
  int nlabels;
  int implicit_kvm_fd;
  struct vmrec vms[MAX_VMS];
  int nvms;
  struct vcpurec vcpus[MAX_VCPUS];
  int nvcpus;
  int code_slot; /* memslot id the oracle uses for guest code */
  uint64_t mmap_cursor; /* top-down placement of the scenario's own mappings, as the model's get_unmapped_area() */
  int id;        /* scenario number in the input */
};

/* Why a step could not run on the real kernel; set by an op, reported as a framing line. */
extern __thread char g_model_only[512];

/* State shared by the driver and every scenario process of one boot (a MAP_SHARED page). */
struct shared_state {
  int step;          /* the step the scenario process is running, for when it dies */
  char op[64];
  double unpoison_window_start; /* the kernel's unpoison log ratelimit window, as the runner tracks it */
  int unpoison_in_window;
};
extern struct shared_state *g_shared;

/* Serialises the scenario state (labels, VM and vCPU records, the mapping cursor) and output lines between the
 * threads of a race scenario; a plain sequential run takes it uncontended. */
void state_lock(void);
void state_unlock(void);

/* Seconds on CLOCK_MONOTONIC. */
double monotonic_seconds(void);
/* Before a scenario that will unpoison n times: wait out a ratelimit window earlier scenarios filled. */
void unpoison_pace(int n);

/* ------------------------------------------------------------------------------------------------ ops.c */

int label_find(const struct scen *s, const char *name);
uint64_t arg_u64(struct scen *s, const struct jnode *step, const char *name, uint64_t dflt);
int arg_has(const struct jnode *step, const char *name);
const char *arg_str(const struct jnode *step, const char *name);
uint64_t value_of(struct scen *s, const struct jnode *v);
/* Runs one step, appending ret/errno/... to o; returns 0, or -1 when the step is model-only (g_model_only set). */
int run_op(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret_for_label);
int helper_kvm_fd(void);
/* Raises RLIMIT_NOFILE and returns the fd numbers the runner keeps for itself, far above any a scenario names. */
int private_fd_base(void);
int pagemap_pfn(uint64_t addr, uint64_t *pfn);

/* ------------------------------------------------------------------------------------------------ guest.c */

extern int g_maxphyaddr;
extern int g_watchdog;
void guest_init(int kvm_fd);
/* After KVM_CREATE_VCPU succeeded: prepares the vCPU for 64-bit guest code. */
void guest_vcpu_created(struct scen *s, int vm_fd, int vcpu_fd);
struct vcpurec *guest_vcpu(struct scen *s, int fd);
void guest_fd_closed(struct scen *s, int fd);
int op_kvm_run(struct scen *s, const struct jnode *step, struct jout *o, uint64_t *ret);

#endif
