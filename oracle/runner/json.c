/* A small JSON parser for the runner's input: the compiled scenario form is plain JSON with string numbers. */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

struct parser {
  const char *p;
  const char *err;
};

static struct jnode *node(enum jtype t) {
  struct jnode *n = calloc(1, sizeof *n);
  if (!n) abort();
  n->type = t;
  return n;
}

static void skip_ws(struct parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t') ps->p++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *dst, unsigned cp) {
  if (cp < 0x80) { dst[0] = (char)cp; return 1; }
  if (cp < 0x800) { dst[0] = (char)(0xc0 | cp >> 6); dst[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
  if (cp < 0x10000) {
    dst[0] = (char)(0xe0 | cp >> 12);
    dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  dst[0] = (char)(0xf0 | cp >> 18);
  dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  dst[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static unsigned read_hex4(struct parser *ps) {
  unsigned cp = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(ps->p[i]);
    if (h < 0) { ps->err = "bad \\u escape"; return 0; }
    cp = cp << 4 | (unsigned)h;
  }
  ps->p += 4;
  return cp;
}

static const char *parse_string(struct parser *ps) {
  const char *start = ++ps->p; /* after the opening quote */
  size_t cap = 1;
  for (const char *q = start; *q && *q != '"'; q++) cap += (*q == '\\') ? 2 : 1;
  char *out = malloc(cap * 4 + 1);
  if (!out) abort();
  size_t n = 0;
  while (*ps->p && *ps->p != '"') {
    char c = *ps->p++;
    if ((unsigned char)c < 0x20) { ps->err = "control character in string"; return NULL; }
    if (c != '\\') { out[n++] = c; continue; }
    char e = *ps->p++;
    switch (e) {
      case '"': out[n++] = '"'; break;
      case '\\': out[n++] = '\\'; break;
      case '/': out[n++] = '/'; break;
      case 'b': out[n++] = '\b'; break;
      case 'f': out[n++] = '\f'; break;
      case 'n': out[n++] = '\n'; break;
      case 'r': out[n++] = '\r'; break;
      case 't': out[n++] = '\t'; break;
      case 'u': {
        unsigned cp = read_hex4(ps);
        if (cp >= 0xd800 && cp < 0xdc00 && ps->p[0] == '\\' && ps->p[1] == 'u') {
          ps->p += 2;
          unsigned lo = read_hex4(ps);
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        n += put_utf8(out + n, cp);
        break;
      }
      default: ps->err = "bad escape"; return NULL;
    }
  }
  if (*ps->p != '"') { ps->err = "unterminated string"; return NULL; }
  ps->p++;
  out[n] = 0;
  return out;
}

static struct jnode *parse_value(struct parser *ps, int depth);

static struct jnode *parse_container(struct parser *ps, int depth, int is_obj) {
  struct jnode *n = node(is_obj ? J_OBJ : J_ARR);
  struct jnode **tail = &n->child;
  char close = is_obj ? '}' : ']';
  ps->p++;
  skip_ws(ps);
  if (*ps->p == close) { ps->p++; return n; }
  for (;;) {
    const char *key = NULL;
    skip_ws(ps);
    if (is_obj) {
      if (*ps->p != '"') { ps->err = "expected a member name"; return NULL; }
      key = parse_string(ps);
      if (!key) return NULL;
      skip_ws(ps);
      if (*ps->p++ != ':') { ps->err = "expected ':'"; return NULL; }
    }
    struct jnode *v = parse_value(ps, depth + 1);
    if (!v) return NULL;
    v->key = key;
    *tail = v;
    tail = &v->next;
    skip_ws(ps);
    if (*ps->p == ',') { ps->p++; continue; }
    if (*ps->p == close) { ps->p++; return n; }
    ps->err = is_obj ? "expected ',' or '}'" : "expected ',' or ']'";
    return NULL;
  }
}

static struct jnode *parse_value(struct parser *ps, int depth) {
  if (depth > 64) { ps->err = "nesting too deep"; return NULL; }
  skip_ws(ps);
  char c = *ps->p;
  if (c == '{' || c == '[') return parse_container(ps, depth, c == '{');
  if (c == '"') {
    struct jnode *n = node(J_STR);
    n->str = parse_string(ps);
    return n->str ? n : NULL;
  }
  if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
    struct jnode *n = node(J_BOOL);
    n->boolean = c == 't';
    ps->p += n->boolean ? 4 : 5;
    return n;
  }
  if (!strncmp(ps->p, "null", 4)) { ps->p += 4; return node(J_NULL); }
  if (c == '-' || (c >= '0' && c <= '9')) {
    const char *start = ps->p;
    ps->p++;
    while (strchr("0123456789.eE+-", *ps->p) && *ps->p) ps->p++;
    struct jnode *n = node(J_NUM);
    n->str = strndup(start, (size_t)(ps->p - start));
    return n;
  }
  ps->err = "unexpected character";
  return NULL;
}

struct jnode *json_parse(const char *text, const char **err) {
  struct parser ps = {text, NULL};
  struct jnode *n = parse_value(&ps, 0);
  if (n) {
    skip_ws(&ps);
    if (*ps.p) { ps.err = "trailing characters"; n = NULL; }
  }
  if (!n && err) *err = ps.err ? ps.err : "malformed JSON";
  return n;
}

struct jnode *json_get(const struct jnode *obj, const char *key) {
  if (!obj || obj->type != J_OBJ) return NULL;
  for (struct jnode *c = obj->child; c; c = c->next)
    if (!strcmp(c->key, key)) return c;
  return NULL;
}

long long json_int(const struct jnode *n, long long dflt) {
  if (!n) return dflt;
  if (n->type == J_NUM || n->type == J_STR) return strtoll(n->str, NULL, 0);
  return dflt;
}

const char *json_str(const struct jnode *n) { return n && n->type == J_STR ? n->str : NULL; }
