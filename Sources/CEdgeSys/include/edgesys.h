#ifndef EDGENODE_EDGESYS_H
#define EDGENODE_EDGESYS_H

/// Opens `path` (relative to `directory`) read-only, refusing to resolve anywhere outside `directory` — not through
/// "..", absolute symlinks, or magic links — using openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Returns a file
/// descriptor, or -1 with errno set (EXDEV for an escape attempt, ENOSYS on kernels before 5.6).
int edgesys_open_beneath(int directory, const char *path);

/// Sets the extended attribute `name` of an open file (fsetxattr); 0, or -1 with errno set (ENOTSUP where the file
/// system keeps no user attributes).
long edgesys_set_attribute(int descriptor, const char *name, const void *value, unsigned long length);

/// Reads the extended attribute `name` of an open file into `value` (fgetxattr); its length, or -1 with errno set.
long edgesys_get_attribute(int descriptor, const char *name, void *value, unsigned long capacity);

#endif
