// Header-only shim: libav macros that Swift cannot import (function-like macros, casts, compound literals).
#ifndef EDGENODE_CLIBAV_SHIM_H
#define EDGENODE_CLIBAV_SHIM_H

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libavutil/mathematics.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/// AVERROR(e): a POSIX errno as a negative libav error code.
static inline int shim_AVERROR(int e) { return AVERROR(e); }
/// AVERROR_EOF: end of input.
static inline int shim_AVERROR_EOF(void) { return AVERROR_EOF; }
/// AVERROR_INVALIDDATA: malformed input.
static inline int shim_AVERROR_INVALIDDATA(void) { return AVERROR_INVALIDDATA; }
/// AV_NOPTS_VALUE: "no timestamp".
static inline int64_t shim_AV_NOPTS_VALUE(void) { return AV_NOPTS_VALUE; }
/// AV_TIME_BASE_Q: the microsecond time base {1, AV_TIME_BASE}.
static inline AVRational shim_AV_TIME_BASE_Q(void) { return AV_TIME_BASE_Q; }
/// av_err2str without the compound literal: writes into buf and returns it.
static inline const char *shim_av_err2str(int errnum, char *buf, size_t size) {
    return av_make_error_string(buf, size, errnum);
}

/// The last libav log line at error level or worse on this thread, so failures can say what libav saw.
static inline char *shim_last_log_line(void) {
    static _Thread_local char line[512];
    return line;
}

static inline void shim_log_callback(void *context, int level, const char *format, va_list arguments) {
    (void)context;
    if (level > AV_LOG_ERROR) return;
    char *line = shim_last_log_line();
    vsnprintf(line, 512, format, arguments);
    size_t length = strlen(line);
    while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r')) line[--length] = 0;
}

/// Routes libav's log into shim_last_log_line instead of standard error.
static inline void shim_capture_log(void) {
    shim_last_log_line()[0] = 0;
    av_log_set_callback(shim_log_callback);
}

#endif
