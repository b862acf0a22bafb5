// libmaxminddb (Debian: libmaxminddb-dev), which reads MaxMind-format GeoIP databases.
#ifndef EDGENODE_CMAXMINDDB_SHIM_H
#define EDGENODE_CMAXMINDDB_SHIM_H
#include <maxminddb.h>
#endif
