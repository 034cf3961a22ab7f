#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// HDF5's type, property-class and access-flag "constants" are comma-expression macros such as
// (H5open(), H5T_NATIVE_FLOAT_g). Swift does not import them; these wrappers do, and each one runs
// H5open() through the macro so the library initialises itself.
static inline hid_t chdf5_T_NATIVE_FLOAT(void)   { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_T_NATIVE_DOUBLE(void)  { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_T_NATIVE_INT64(void)   { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_T_NATIVE_INT32(void)   { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_T_NATIVE_INT16(void)   { return H5T_NATIVE_INT16; }
static inline hid_t chdf5_T_NATIVE_INT8(void)    { return H5T_NATIVE_INT8; }
static inline hid_t chdf5_T_NATIVE_UINT8(void)   { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_T_NATIVE_UINT16(void)  { return H5T_NATIVE_UINT16; }
static inline hid_t chdf5_T_NATIVE_UINT32(void)  { return H5T_NATIVE_UINT32; }
static inline hid_t chdf5_T_NATIVE_UINT64(void)  { return H5T_NATIVE_UINT64; }
static inline hid_t chdf5_T_IEEE_F32LE(void)     { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_T_IEEE_F64LE(void)     { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_T_STD_I64LE(void)      { return H5T_STD_I64LE; }
static inline hid_t chdf5_T_STD_I32LE(void)      { return H5T_STD_I32LE; }
static inline hid_t chdf5_T_STD_I16LE(void)      { return H5T_STD_I16LE; }
static inline hid_t chdf5_T_STD_I8LE(void)       { return H5T_STD_I8LE; }
static inline hid_t chdf5_T_STD_U8LE(void)       { return H5T_STD_U8LE; }
static inline hid_t chdf5_T_STD_U16LE(void)      { return H5T_STD_U16LE; }
static inline hid_t chdf5_T_STD_U32LE(void)      { return H5T_STD_U32LE; }
static inline hid_t chdf5_T_STD_U64LE(void)      { return H5T_STD_U64LE; }
static inline hid_t chdf5_T_C_S1(void)           { return H5T_C_S1; }
static inline size_t chdf5_T_VARIABLE(void)      { return H5T_VARIABLE; }
static inline hid_t chdf5_P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_P_LINK_CREATE(void)    { return H5P_LINK_CREATE; }
static inline unsigned chdf5_F_ACC_RDONLY(void)  { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_F_ACC_TRUNC(void)   { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_F_ACC_EXCL(void)    { return H5F_ACC_EXCL; }

// Links whose target lies outside the file (external links, user-defined link classes), found with H5Lvisit.
// Written in C because H5Lvisit and its callback's info type are versioned macros (H5Lvisit2 / H5L_info2_t in
// libhdf5 1.12, 1.14 and 2.0; H5Lvisit / H5L_info_t in 1.10), which Swift does not import; the unversioned names
// here compile against each.
typedef struct {
    hid_t start;       // the group the walk started from (link names are relative to it)
    int kind;          // 0: none found; 1: an external link; 2: a user-defined link class
    char name[1024];   // the link's path from `start`
    char file[1024];   // external links: the target file
    char object[1024]; // external links: the target object in that file
} chdf5_outside_link;

static herr_t chdf5_visit_outside_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    chdf5_outside_link *found = (chdf5_outside_link *)data;
    (void)group;
    if (info->type == H5L_TYPE_HARD || info->type == H5L_TYPE_SOFT) return 0;
    found->kind = info->type == H5L_TYPE_EXTERNAL ? 1 : 2;
    snprintf(found->name, sizeof found->name, "%s", name);
    size_t size = info->u.val_size;
    if (found->kind == 1 && size > 0 && size <= (1u << 20)) {
        void *value = malloc(size);
        const char *file = NULL, *object = NULL;
        unsigned flags = 0;
        if (value && H5Lget_val(found->start, name, value, size, H5P_DEFAULT) >= 0
            && H5Lunpack_elink_val(value, size, &flags, &file, &object) >= 0) {
            snprintf(found->file, sizeof found->file, "%s", file ? file : "");
            snprintf(found->object, sizeof found->object, "%s", object ? object : "");
        }
        free(value);
    }
    return 1;  // stop at the first one
}

/// Walks every link below `group` (not following any) and fills `found` with the first whose target lies outside
/// the file. Returns a negative value when the walk fails.
static inline herr_t chdf5_first_outside_link(hid_t group, chdf5_outside_link *found) {
    memset(found, 0, sizeof *found);
    found->start = group;
    return H5Lvisit(group, H5_INDEX_NAME, H5_ITER_INC, chdf5_visit_outside_link, found);
}
#endif
