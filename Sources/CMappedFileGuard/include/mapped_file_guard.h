// Turning a read past the end of a mapped file that shrank (SIGBUS) into zero pages and a flag, so that the
// reader reports a one-line error instead of crashing (README, "Untrusted files"; see MappedFile.swift).
#ifndef MAPPED_FILE_GUARD_H
#define MAPPED_FILE_GUARD_H
#include <stddef.h>

/// Installs the SIGBUS handler once; later calls do nothing. Thread-safe.
void mapped_file_guard_install(void);

/// Registers the mapping [start, start + length) of an input file. Returns its slot, or -1 when all slots are
/// taken (the mapping is then unguarded: a read past a new end of the file crashes as before).
int mapped_file_guard_register(const void *start, size_t length);

/// Forgets `slot` (call before unmapping it). Does nothing for -1.
void mapped_file_guard_unregister(int slot);

/// 1 when a read in `slot`'s mapping touched a page past the end of its file (the file shrank after it was
/// mapped); those pages now read as zeros. 0 otherwise, and for -1.
int mapped_file_guard_faulted(int slot);

/// Test support: how many faults the handler has absorbed since the process started.
long mapped_file_guard_fault_count(void);

#endif
