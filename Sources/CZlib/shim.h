#ifndef TRIBUTARY_CZLIB_SHIM_H
#define TRIBUTARY_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 is a macro, which Swift cannot call. */
static inline int tributary_deflate_init_gzip(z_streamp stream, int level) {
    /* windowBits 15 + 16: a gzip wrapper (no file name, mtime 0) instead of zlib's. */
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
