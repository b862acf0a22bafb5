#define _GNU_SOURCE
#include "edgesys.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

int edgesys_open_beneath(int directory, const char *path) {
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, directory, path, &how, sizeof(how));
}

long edgesys_set_attribute(int descriptor, const char *name, const void *value, unsigned long length) {
    return fsetxattr(descriptor, name, value, length, 0);
}

long edgesys_get_attribute(int descriptor, const char *name, void *value, unsigned long capacity) {
    return fgetxattr(descriptor, name, value, capacity);
}
