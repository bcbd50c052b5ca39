/* JSON output: one object per line, written with a single write() so lines from different processes never mix. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

void write_all(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void put(struct jout *o, const char *s, size_t n) {
  if (o->len + n + 4 >= sizeof o->buf) return; /* truncated lines fail to parse on the other side: loud, not silent */
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

static void puts_(struct jout *o, const char *s) { put(o, s, strlen(s)); }

static void put_escaped(struct jout *o, const char *s) {
  char t[8];
  put(o, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      t[0] = '\\';
      t[1] = (char)c;
      put(o, t, 2);
    } else if (c < 0x20) {
      snprintf(t, sizeof t, "\\u%04x", c);
      put(o, t, 6);
    } else {
      put(o, (const char *)&c, 1);
    }
  }
  put(o, "\"", 1);
}

/* Separator and key for the next value in the current container. */
void jo_key(struct jout *o, const char *key) {
  if (!o->depth_first[o->depth]) put(o, ",", 1);
  o->depth_first[o->depth] = 0;
  if (key) {
    put_escaped(o, key);
    put(o, ":", 1);
  }
}

void jo_begin(struct jout *o) {
  o->len = 0;
  o->depth = 0;
  o->depth_first[0] = 1;
  put(o, "{", 1);
}

static void open_(struct jout *o, const char *key, const char *bracket) {
  jo_key(o, key);
  puts_(o, bracket);
  if (o->depth < 15) o->depth++;
  o->depth_first[o->depth] = 1;
}

void jo_obj(struct jout *o, const char *key) { open_(o, key, "{"); }
void jo_arr(struct jout *o, const char *key) { open_(o, key, "["); }

void jo_close_obj(struct jout *o) {
  put(o, "}", 1);
  if (o->depth > 0) o->depth--;
}

void jo_close_arr(struct jout *o) {
  put(o, "]", 1);
  if (o->depth > 0) o->depth--;
}

void jo_str(struct jout *o, const char *key, const char *v) {
  jo_key(o, key);
  put_escaped(o, v);
}

void jo_i64(struct jout *o, const char *key, int64_t v) {
  char t[32];
  jo_key(o, key);
  /* the model's u64(): exact integers as numbers, everything else as a 64-bit hex string */
  if (v >= -9007199254740991LL && v <= 9007199254740991LL)
    snprintf(t, sizeof t, "%" PRId64, v);
  else
    snprintf(t, sizeof t, "\"0x%" PRIx64 "\"", (uint64_t)v);
  puts_(o, t);
}

void jo_u64(struct jout *o, const char *key, uint64_t v) {
  char t[32];
  jo_key(o, key);
  if (v <= 9007199254740991ULL)
    snprintf(t, sizeof t, "%" PRIu64, v);
  else
    snprintf(t, sizeof t, "\"0x%" PRIx64 "\"", v);
  puts_(o, t);
}

void jo_bool(struct jout *o, const char *key, int v) {
  jo_key(o, key);
  puts_(o, v ? "true" : "false");
}

void jo_null(struct jout *o, const char *key) {
  jo_key(o, key);
  puts_(o, "null");
}

void jo_emit(struct jout *o) {
  put(o, "}\n", 2);
  write_all(1, o->buf, o->len);
  o->len = 0;
}
