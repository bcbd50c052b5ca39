/* Symbolic names for kernel numbers, from tables generated out of the model's own uAPI definitions (names.h is
 * written by src/oracle/runner-build.ts), so both sides of a comparison name things identically. */
#include <stdio.h>

#include "names.h"
#include "runner.h"

static const char *lookup(const struct name_entry *t, long long v) {
  for (; t->name; t++)
    if (t->value == v) return t->name;
  return NULL;
}

const char *errno_name(int e, char *buf, size_t cap) {
  const char *n = lookup(ERRNO_NAMES, e);
  if (n) return n;
  snprintf(buf, cap, "E%d", e);
  return buf;
}

const char *exit_reason_name(unsigned r, char *buf, size_t cap) {
  const char *n = lookup(EXIT_REASON_NAMES, r);
  if (n) return n;
  snprintf(buf, cap, "%u", r);
  return buf;
}

const char *signal_name(int signo, char *buf, size_t cap) {
  const char *n = lookup(SIGNAL_NAMES, signo);
  if (n) return n;
  snprintf(buf, cap, "%d", signo);
  return buf;
}

/* The model's signalResult(): SIGBUS codes by name, otherwise SI_USER or the two SIGSEGV codes. */
const char *signal_code_name(int signo, int code, char *buf, size_t cap) {
  if (signo == 7) {
    const char *n = lookup(BUS_CODE_NAMES, code);
    if (n) return n;
    snprintf(buf, cap, "%d", code);
    return buf;
  }
  if (code == 0) return "SI_USER";
  return code == 1 ? "SEGV_MAPERR" : "SEGV_ACCERR";
}

void memory_fault_flags(struct jout *o, const char *key, uint64_t flags) {
  char t[32];
  jo_arr(o, key);
  for (const struct name_entry *e = MEMORY_FAULT_FLAG_NAMES; e->name; e++) {
    uint64_t v = (uint64_t)e->value;
    if (v && (flags & v) == v) {
      jo_str(o, NULL, e->name);
      flags &= ~v;
    }
  }
  if (flags) {
    snprintf(t, sizeof t, "0x%llx", (unsigned long long)flags);
    jo_str(o, NULL, t);
  }
  jo_close_arr(o);
}
