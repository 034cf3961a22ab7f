#ifndef CKERNELS_IO_H
#define CKERNELS_IO_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32 of the zlib / ZIP polynomial (reflected 0xEDB88320), continuing from `crc` exactly as zlib's
/// `crc32(crc, buf, len)` does (start from 0). Folds 64 bytes at a time with PCLMULQDQ when the CPU has
/// PCLMUL + SSE4.1 (chosen at run time); zlib's crc32 does the rest and everything on other CPUs.
uint32_t ckernels_crc32(uint32_t crc, const void *buf, size_t len);

/// Starts write-back of `[offset, offset + count)` of the file `fd` without waiting for it
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux; nothing elsewhere). Returns 0 or an errno value.
int ckernels_start_writeback(int fd, int64_t offset, int64_t count);

/// Exchanges the paths `a` and `b` atomically (both must exist; either may be a folder): Linux's
/// `renameat2(RENAME_EXCHANGE)`. Returns 0 or an errno value: EINVAL or ENOSYS where the file system or the
/// system cannot exchange.
int ckernels_exchange_paths(const char *a, const char *b);
#endif
