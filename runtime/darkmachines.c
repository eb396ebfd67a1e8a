/* darkmachines.c — see hepnc/darkmachines.h. */
#include "hepnc/darkmachines.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct hn_dm_reader {
    char *path;
    FILE *f;
    long line;
    char *buf;
    size_t cap;
};

static const char *const kinds[HN_DM_KINDS] = { "j", "b", "e-", "e+", "m-", "m+", "g" };

const char *hn_dm_kind_name(int kind) { return kind >= 0 && kind < HN_DM_KINDS ? kinds[kind] : "?"; }

static int fail(const hn_dm_reader *r, char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(const hn_dm_reader *r, char *err, size_t errlen, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%ld: error: %s", r->path, r->line, msg);
    return -1;
}

hn_dm_reader *hn_dm_open(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    hn_dm_reader *r = calloc(1, sizeof *r);
    r->path = strdup(path);
    r->f = f;
    return r;
}

void hn_dm_close(hn_dm_reader *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    free(r->buf);
    free(r->path);
    free(r);
}

long hn_dm_line(const hn_dm_reader *r) { return r->line; }

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') ++s;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = '\0';
    return s;
}

static int number(const hn_dm_reader *r, const char *text, const char *what, int field, double *out, char *err,
                  size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *trim(end) || errno || !isfinite(v))
        return fail(r, err, errlen, "field %d (%s): '%s' is not a number", field, what, text);
    *out = v;
    return 0;
}

/* One "obj, E, pt, eta, phi" group. */
static int object(const hn_dm_reader *r, char *text, int field, hn_dm_object *o, char *err, size_t errlen)
{
    char *part[6];
    int n = 0;
    for (char *p = text, *tok; n < 6 && (tok = strsep(&p, ",")); ) part[n++] = trim(tok);
    if (n != 5) return fail(r, err, errlen, "field %d: an object is 'type, E, pt, eta, phi', got %d values", field, n);
    o->kind = -1;
    for (int k = 0; k < HN_DM_KINDS; ++k)
        if (!strcmp(part[0], kinds[k])) o->kind = k;
    if (o->kind < 0) return fail(r, err, errlen, "field %d: unknown object type '%s' (j, b, e-, e+, m-, m+, g)", field, part[0]);
    double v[4];
    static const char *const names[4] = { "E", "pt", "eta", "phi" };
    for (int k = 0; k < 4; ++k)
        if (number(r, part[k + 1], names[k], field, &v[k], err, errlen)) return -1;
    o->e = (float)(v[0] / 1000.0);
    o->pt = (float)(v[1] / 1000.0);
    o->eta = (float)v[2];
    o->phi = (float)v[3];
    return 0;
}

static int read_line(hn_dm_reader *r)
{
    size_t len = 0;
    for (;;) {
        if (r->cap - len < 4096) {
            size_t cap = r->cap ? 2 * r->cap : 65536;
            char *b = realloc(r->buf, cap);
            if (!b) return -1;
            r->buf = b;
            r->cap = cap;
        }
        if (!fgets(r->buf + len, (int)(r->cap - len), r->f)) return len ? 1 : 0;
        len += strlen(r->buf + len);
        if (len && r->buf[len - 1] == '\n') return 1;
    }
}

int hn_dm_next(hn_dm_reader *r, hn_dm_event *ev, char *err, size_t errlen)
{
    for (;;) {
        int got = read_line(r);
        if (got <= 0) return got;
        ++r->line;
        char *line = trim(r->buf);
        if (!*line || *line == '#') continue;
        memset(ev, 0, sizeof *ev);
        char *fields[70];
        int nf = 0;
        for (char *p = line, *tok; (tok = strsep(&p, ";"));) {
            tok = trim(tok);
            if (!*tok && !p) break;                        /* a trailing ';' */
            if (nf == 70) return fail(r, err, errlen, "more than %d objects", 64);
            fields[nf++] = tok;
        }
        if (nf < 5) return fail(r, err, errlen, "%d fields; an event needs 'ID; process; weight; MET; METphi' first", nf);
        snprintf(ev->id, sizeof ev->id, "%s", fields[0]);
        snprintf(ev->process, sizeof ev->process, "%s", fields[1]);
        double met, phi;
        if (number(r, fields[2], "weight", 3, &ev->weight, err, errlen) ||
            number(r, fields[3], "MET", 4, &met, err, errlen) || number(r, fields[4], "METphi", 5, &phi, err, errlen))
            return -1;
        ev->met = (float)(met / 1000.0);
        ev->met_phi = (float)phi;
        for (int i = 5; i < nf; ++i)
            if (object(r, fields[i], i + 1, &ev->objects[ev->nobjects++], err, errlen)) return -1;
        return 1;
    }
}
