/* diag.c — see diag.h. */
#include "diag.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int error_count;

int hn_source_read(hn_source *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hn_error_plain("%s: error: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) { free(buf); buf = NULL; break; }
            buf = bigger;
            cap *= 2;
        }
    }
    int read_failed = ferror(f);
    fclose(f);
    if (!buf || read_failed) {
        free(buf);
        return hn_error_plain("%s: error: cannot read the file", path);
    }
    buf[len] = '\0';
    s->text = buf;
    s->length = (long)len;

    int nlines = 1;
    for (size_t i = 0; i < len; ++i)
        nlines += buf[i] == '\n';
    s->lines = malloc(sizeof *s->lines * (size_t)nlines);
    if (!s->lines)
        return hn_error_plain("%s: error: out of memory", path);
    s->lines[0] = buf;
    int k = 1;
    for (size_t i = 0; i < len; ++i)
        if (buf[i] == '\n')
            s->lines[k++] = buf + i + 1;
    s->nlines = nlines;
    return 0;
}

void hn_source_free(hn_source *s)
{
    free(s->text);
    free(s->lines);
    memset(s, 0, sizeof *s);
}

/* Prints the source line (non-printable bytes shown as '?', long lines cut) and a caret. */
static void show_line(hn_loc loc)
{
    if (!loc.src || loc.line < 1 || loc.line > loc.src->nlines)
        return;
    const char *p = loc.src->lines[loc.line - 1];
    const char *end = loc.src->text + loc.src->length;
    char shown[201];
    int n = 0;
    while (p < end && *p != '\n' && n < 200) {
        unsigned char c = (unsigned char)*p++;
        shown[n++] = (c == '\t' || (c >= 32 && c < 127)) ? (char)c : '?';
    }
    if (n > 0 && shown[n - 1] == '\r')
        --n;
    shown[n] = '\0';
    fprintf(stderr, "  %s\n  ", shown);
    int col = loc.col < 1 ? 1 : loc.col;
    for (int i = 1; i < col && i <= n; ++i)
        fputc(shown[i - 1] == '\t' ? '\t' : ' ', stderr);
    fputs("^\n", stderr);
}

static void report(const char *kind, hn_loc loc, const char *fmt, va_list ap)
{
    if (loc.src && loc.line > 0)
        fprintf(stderr, "%s:%d:%d: %s: ", loc.src->path, loc.line, loc.col, kind);
    else if (loc.src)
        fprintf(stderr, "%s: %s: ", loc.src->path, kind);
    else
        fprintf(stderr, "hepnc: %s: ", kind);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    show_line(loc);
}

int hn_error(hn_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("error", loc, fmt, ap);
    va_end(ap);
    ++error_count;
    return -1;
}

void hn_note(hn_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("note", loc, fmt, ap);
    va_end(ap);
}

int hn_error_plain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    ++error_count;
    return -1;
}

int hn_error_count(void) { return error_count; }

/* Levenshtein distance, case-insensitive, capped at 64 characters. */
static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 64 || lb > 64)
        return 1000;
    int row[65];
    for (int j = 0; j <= lb; ++j)
        row[j] = j;
    for (int i = 1; i <= la; ++i) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= lb; ++j) {
            int up = row[j];
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = diag + cost;
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *hn_closest(const char *word, const char *const *candidates, int n)
{
    const char *best = NULL;
    int best_d = 1000;
    int limit = (int)strlen(word) / 3;
    if (limit < 2) limit = 2;
    for (int i = 0; i < n; ++i) {
        int d = edit_distance(word, candidates[i]);
        if (d < best_d) { best_d = d; best = candidates[i]; }
    }
    if (best && best_d == 0 && strcmp(best, word) == 0) return NULL;   /* identical: nothing to suggest */
    return best_d <= limit ? best : NULL;                             /* 0 here: differs only in case */
}
