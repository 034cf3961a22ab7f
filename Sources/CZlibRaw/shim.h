#ifndef CZLIBRAW_SHIM_H
#define CZLIBRAW_SHIM_H
#include <zlib.h>
// inflateInit2 / deflateInit2 are function-like macros; Swift does not import them.
static inline int czr_inflateInit2(z_streamp s, int windowBits) { return inflateInit2(s, windowBits); }
static inline int czr_deflateInit2(z_streamp s, int level, int windowBits) {
    return deflateInit2(s, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
