// SIGBUS handler for mapped input files (mapped_file_guard.h).
//
// A file mapped with mmap that another process truncates raises SIGBUS when a page past its new end is read.
// The handler looks the faulting address up in a fixed table of registered mappings (lock-free: only atomics,
// no allocation, as a signal handler requires), replaces the rest of that mapping with anonymous zero pages
// (mmap MAP_FIXED, a plain system call), marks the mapping as faulted and returns, so the interrupted copy runs
// on over zeros. Readers check the mark (and the file's size) before they trust what they copied and fail
// with a one-line error. A SIGBUS outside every registered mapping is handed to the previous handler.
#define _GNU_SOURCE
#include "mapped_file_guard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOTS 4096

enum { FREE = 0, RESERVED = 1, ACTIVE = 2 };

static _Atomic int slot_state[SLOTS];
static _Atomic uintptr_t slot_start[SLOTS];
static _Atomic uintptr_t slot_end[SLOTS];
static _Atomic int slot_faulted[SLOTS];
static _Atomic long fault_count;
static _Atomic int installed;
static uintptr_t page_size = 4096;
static struct sigaction previous;

static void handle_bus_error(int signal, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t)info->si_addr;
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&slot_state[i]) != ACTIVE) continue;
        uintptr_t start = atomic_load(&slot_start[i]), end = atomic_load(&slot_end[i]);
        if (address < start || address >= end) continue;
        uintptr_t page = address & ~(page_size - 1);
        uintptr_t last = (end + page_size - 1) & ~(page_size - 1);
        void *zeros = mmap((void *)page, last - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (zeros == MAP_FAILED) break;
        atomic_store(&slot_faulted[i], 1);
        atomic_fetch_add(&fault_count, 1);
        return;
    }
    // Not a guarded mapping: restore the previous disposition; returning re-executes the access, which faults
    // again and is handled the way it would have been without this guard.
    sigaction(SIGBUS, &previous, NULL);
    (void)signal;
    (void)context;
}

void mapped_file_guard_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return;
    long size = sysconf(_SC_PAGESIZE);
    if (size > 0) page_size = (uintptr_t)size;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handle_bus_error;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous);
}

int mapped_file_guard_register(const void *start, size_t length) {
    for (int i = 0; i < SLOTS; i++) {
        int expected = FREE;
        if (!atomic_compare_exchange_strong(&slot_state[i], &expected, RESERVED)) continue;
        atomic_store(&slot_start[i], (uintptr_t)start);
        atomic_store(&slot_end[i], (uintptr_t)start + length);
        atomic_store(&slot_faulted[i], 0);
        atomic_store(&slot_state[i], ACTIVE);
        return i;
    }
    return -1;
}

void mapped_file_guard_unregister(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    atomic_store(&slot_state[slot], FREE);
}

int mapped_file_guard_faulted(int slot) {
    if (slot < 0 || slot >= SLOTS) return 0;
    return atomic_load(&slot_faulted[slot]);
}

long mapped_file_guard_fault_count(void) { return atomic_load(&fault_count); }
