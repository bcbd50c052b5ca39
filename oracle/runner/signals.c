/* Signal capture. The modeled VMM has a SIGBUS handler (as QEMU has): a delivered signal is recorded in the step's
 * result. A fault in a user-mode access made by the runner itself longjmps out of the access. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "runner.h"

__thread struct sigstate g_sig;

static void on_fault(int signo, siginfo_t *si, void *uc) {
  (void)uc;
  if (g_sig.count == 0) {
    g_sig.first.signo = signo;
    g_sig.first.code = si->si_code;
    g_sig.first.addr = (uint64_t)(uintptr_t)si->si_addr;
    g_sig.first.lsb = signo == SIGBUS ? si->si_addr_lsb : 0;
  }
  g_sig.count++;
  if (g_sig.armed) {
    g_sig.armed = 0;
    siglongjmp(g_sig.jb, 1);
  }
}

/* The KVM_RUN watchdog: SIGALRM without SA_RESTART makes a vCPU that loops in the kernel return -EINTR. */
static void on_alarm(int signo) {
  (void)signo;
  g_sig.alarm_fired = 1;
}

void signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
}

void signals_reset(void) {
  g_sig.count = 0;
  g_sig.armed = 0;
  g_sig.alarm_fired = 0;
  memset(&g_sig.first, 0, sizeof g_sig.first);
}

int guarded_load(uint64_t addr, int size, uint64_t *value) {
  *value = 0;
  if (sigsetjmp(g_sig.jb, 1) != 0) return 1;
  g_sig.armed = 1;
  switch (size) {
    case 2: *value = *(volatile uint16_t *)(uintptr_t)addr; break;
    case 4: *value = *(volatile uint32_t *)(uintptr_t)addr; break;
    case 8: *value = *(volatile uint64_t *)(uintptr_t)addr; break;
    default: *value = *(volatile uint8_t *)(uintptr_t)addr; break;
  }
  g_sig.armed = 0;
  return 0;
}

int guarded_store(uint64_t addr, int size, uint64_t value) {
  if (sigsetjmp(g_sig.jb, 1) != 0) return 1;
  g_sig.armed = 1;
  switch (size) {
    case 2: *(volatile uint16_t *)(uintptr_t)addr = (uint16_t)value; break;
    case 4: *(volatile uint32_t *)(uintptr_t)addr = (uint32_t)value; break;
    case 8: *(volatile uint64_t *)(uintptr_t)addr = value; break;
    default: *(volatile uint8_t *)(uintptr_t)addr = (uint8_t)value; break;
  }
  g_sig.armed = 0;
  return 0;
}

/* Ascending stores, so the first store into each page is at its lowest address: a fault reports the page's first
 * byte written, as the model's user_memset() does. */
int guarded_memset(uint64_t addr, int value, uint64_t length) {
  static __thread volatile uint64_t cur; /* survives the longjmp */
  uint64_t end = addr + length;
  uint64_t pattern = 0x0101010101010101ULL * (uint8_t)value;
  cur = addr;
  if (sigsetjmp(g_sig.jb, 1) != 0) return 1;
  g_sig.armed = 1;
  while (cur < end) {
    if ((cur & 7) == 0 && end - cur >= 8) {
      *(volatile uint64_t *)(uintptr_t)cur = pattern;
      cur += 8;
    } else {
      *(volatile uint8_t *)(uintptr_t)cur = (uint8_t)value;
      cur += 1;
    }
  }
  g_sig.armed = 0;
  return 0;
}
