#ifndef TRIBUTARY_CMALLOC_SHIM_H
#define TRIBUTARY_CMALLOC_SHIM_H
/* glibc's mallopt and malloc_trim, which Swift's Glibc module leaves out (<malloc.h>). */
#if defined(__GLIBC__) || (defined(__linux__) && __has_include(<malloc.h>))
#include <malloc.h>
#if defined(M_MMAP_THRESHOLD)
/* Returns 1 when the setting was taken. */
static inline int tributary_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes) == 1;
}
#define TRIBUTARY_HAS_MALLOPT 1
/* Gives the free memory at the top and inside of every arena back to the system. */
static inline void tributary_trim_heap(void) {
    (void)malloc_trim(0);
}
#endif
#endif
#ifndef TRIBUTARY_HAS_MALLOPT
static inline int tributary_set_mmap_threshold(int bytes) {
    (void)bytes;
    return 0;
}
static inline void tributary_trim_heap(void) {}
#endif
#endif
