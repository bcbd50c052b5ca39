/* Kernel log capture: the records /dev/kmsg received while a step ran become the step's "dmesg" list. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

static int kmsg_fd = -1;

void kmsg_open(void) {
  int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return;
  kmsg_fd = fcntl(fd, F_DUPFD_CLOEXEC, private_fd_base() + 1); /* far above the scenario's fds */
  close(fd);
}

void kmsg_mark(void) {
  if (kmsg_fd >= 0) lseek(kmsg_fd, 0, SEEK_END);
}

/* Undoes /dev/kmsg's \xNN escaping of non-printable bytes. */
static void unescape(char *s) {
  char *d = s;
  while (*s) {
    if (s[0] == '\\' && s[1] == 'x' && s[2] && s[3]) {
      char hex[3] = {s[2], s[3], 0};
      *d++ = (char)strtol(hex, NULL, 16);
      s += 4;
    } else {
      *d++ = *s++;
    }
  }
  *d = 0;
}

void kmsg_collect(struct jout *o) {
  char rec[8192];
  int any = 0;
  if (kmsg_fd < 0) return;
  for (;;) {
    ssize_t n = read(kmsg_fd, rec, sizeof rec - 1);
    if (n < 0 && errno == EPIPE) continue; /* records overwritten before we read them */
    if (n <= 0) break;
    rec[n] = 0;
    char *msg = strchr(rec, ';');
    msg = msg ? msg + 1 : rec;
    char *nl = strchr(msg, '\n'); /* continuation lines carry dictionary fields, not text */
    if (nl) *nl = 0;
    unescape(msg);
    if (!any) jo_arr(o, "dmesg");
    any = 1;
    jo_str(o, NULL, msg);
  }
  if (any) jo_close_arr(o);
}
