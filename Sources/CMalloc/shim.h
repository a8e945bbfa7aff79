#ifndef TRIBUTARY_CMALLOC_SHIM_H
#define TRIBUTARY_CMALLOC_SHIM_H
/* glibc's mallopt, which Swift's Glibc module leaves out (<malloc.h>). */
#if defined(__GLIBC__) || (defined(__linux__) && __has_include(<malloc.h>))
#include <malloc.h>
#if defined(M_ARENA_MAX)
/* Returns 1 when both settings were taken. */
static inline int tributary_set_malloc_options(int arenas, int mmap_threshold) {
    return mallopt(M_ARENA_MAX, arenas) == 1 && mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1;
}
#define TRIBUTARY_HAS_MALLOPT 1
#endif
#endif
#ifndef TRIBUTARY_HAS_MALLOPT
static inline int tributary_set_malloc_options(int arenas, int mmap_threshold) {
    (void)arenas;
    (void)mmap_threshold;
    return 0;
}
#endif
#endif
