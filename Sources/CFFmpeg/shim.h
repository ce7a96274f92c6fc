// FFmpeg for Swift: the headers Vigie's Media module uses, and the macros Swift
// cannot import re-exposed as inline functions. Every symbol here starts with vigie_.
#ifndef VIGIE_CFFMPEG_SHIM_H
#define VIGIE_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdarg.h>
#include <stdio.h>

static inline int vigie_averror(int posixError) { return AVERROR(posixError); }
static inline int vigie_averror_eof(void) { return AVERROR_EOF; }
static inline int vigie_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int vigie_averror_exit(void) { return AVERROR_EXIT; }
static inline int vigie_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t vigie_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational vigie_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int vigie_av_time_base(void) { return AV_TIME_BASE; }
static inline int vigie_pkt_flag_key(void) { return AV_PKT_FLAG_KEY; }

/// Formats one av_log line into `buffer` (Swift cannot walk a va_list itself).
static inline int vigie_format_log_line(void *avcl, int level, const char *fmt, va_list vl,
                                        char *buffer, int size, int *printPrefix) {
    return av_log_format_line2(avcl, level, fmt, vl, buffer, size, printPrefix);
}

#endif
