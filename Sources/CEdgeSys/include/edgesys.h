#ifndef EDGENODE_EDGESYS_H
#define EDGENODE_EDGESYS_H

/// Opens `path` (relative to `directory`) read-only, refusing to resolve anywhere outside `directory` — not through
/// "..", absolute symlinks, or magic links — using openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Returns a file
/// descriptor, or -1 with errno set (EXDEV for an escape attempt, ENOSYS on kernels before 5.6).
int edgesys_open_beneath(int directory, const char *path);

#endif
