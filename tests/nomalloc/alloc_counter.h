/* alloc_counter.h — interposes the C allocator in a test executable: while `counting` is set, every
 * malloc/calloc/realloc/free/aligned allocation adds one to `allocations`. Include in one file only. */
#ifndef HN_TEST_ALLOC_COUNTER_H
#define HN_TEST_ALLOC_COUNTER_H

#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static volatile int counting;
static volatile long allocations;

void *malloc(size_t n) { if (counting) ++allocations; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) ++allocations; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) ++allocations; return __libc_realloc(p, n); }
void free(void *p) { if (counting && p) ++allocations; __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { if (counting) ++allocations; return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n)
{
    if (counting) ++allocations;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}

#endif
