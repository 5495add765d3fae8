/*
 * apps/debs14/q2.h: Query 2, outliers, as three operators of the engine.
 *
 *   source --by house--> q2plug (p) --by house--> q2house (p) --port 0/1--> q2-1h / q2-24h
 *        \--global-----> q2global (1) --broadcast--/
 *
 * q2plug keeps, per house record, each plug's two sliding windows with their exact medians
 * (median.h). At every watermark w (the source's watermarks mark each distinct second and
 * the end of each gap, see source.c) it expires what fell out of (w - W, w] and emits, for
 * every plug whose median changed, entered or left the window, a change event.
 * q2global keeps every reading of the last 24 h (fenwick.h) and, at each distinct second t
 * (a watermark that equals the last reading's second), emits the global median M of both
 * windows to every q2house instance.
 * q2house keeps, per house, its plugs' current medians and the last percentage it printed.
 * It buffers its input until the watermark passes it, then applies it in time order, the
 * changes of a second before its medians, and at each M evaluates its houses.
 *
 * Events between them: change: key = house, time = w, v[0] = household << 32 | plug,
 * v[1] = window (0: 1 h, 1: 24 h), v[2] = the median in half-mW, or -1 when the plug has
 * left the window. Global median: key = 0, time = t, v[0] = STROM_Q2_GLOBAL_TAG | window,
 * v[1] = M in half-mW. Output: key = house, time = t, v[0] = window, v[1] = percentage in
 * hundredths, rounded half away from zero.
 * All medians are compared as integers in half-mW, never as floats.
 */
#ifndef STROM_APPS_DEBS14_Q2_H
#define STROM_APPS_DEBS14_Q2_H

#include <stdio.h>

#include "strom/operator.h"

#define STROM_Q2_WINDOWS 2
#define STROM_Q2_GLOBAL_TAG (INT64_C(1) << 62)
extern const int64_t strom_q2_window_seconds[STROM_Q2_WINDOWS];

extern const struct strom_operator strom_q2plug_op;
extern const struct strom_operator strom_q2global_op;
extern const struct strom_operator strom_q2house_op;

/* "ts_start,ts_stop,house_id,percentage" */
int strom_q2_format(FILE *f, const struct strom_event *ev, void *arg);

#endif
