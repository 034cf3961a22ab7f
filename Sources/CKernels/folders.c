// Swapping two paths in one step, for checkpoints that replace a whole folder (Checkpoints/AtomicFolder.swift).
#define _GNU_SOURCE
#include "ckernels_io.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

int ckernels_exchange_paths(const char *a, const char *b) {
#if defined(__linux__) && defined(RENAME_EXCHANGE)
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0 ? 0 : errno;
#else
    (void)a; (void)b;
    return ENOSYS;
#endif
}
