/*
 * apps/debs14/q2.h: Query 2, outliers, as three operators of the engine.
 *
 *   source --by house--> q2plug (p) --by house (port 0)--> q2house (p) --port 0/1--> q2-1h / q2-24h
 *                              \--global (port 1)--> q2global (1) --broadcast--/
 *
 * q2plug keeps, per house record, each plug's two sliding windows with their exact medians
 * (median.h). It passes every reading on to q2global as it enters, and at every watermark
 * w (the source's watermarks mark each distinct second and the end of each gap, see
 * source.c) it expires what fell out of (w - W, w], tells q2global each reading that left
 * which window, and emits, for every plug whose median changed, entered or left the
 * window, a change event.
 * q2global keeps the global windows as counting structures (fenwick.h), fed by those
 * entries and exits, so the readings themselves are stored once, in the plugs' windows.
 * It buffers its input until the watermark passes it, applies it a second at a time and,
 * at each distinct second t (one at which a reading entered), emits the global median M of
 * both windows to every q2house instance.
 * q2house keeps, per house, its plugs' current medians and the last percentage it printed.
 * It buffers its input until the watermark passes it, then applies it in time order, the
 * changes of a second before its medians, and at each M evaluates its houses.
 *
 * Events between them: to q2global: key = 0, time = the second, v[0] = 2 (the reading
 * enters both windows) or 4 | window (it leaves that window), v[1] = its load in mW.
 * Change: key = house, time = w, v[0] = household << 32 | plug,
 * v[1] = window (0: 1 h, 1: 24 h), v[2] = the median in half-mW, or -1 when the plug has
 * left the window. Global median: key = 0, time = t, v[0] = STROM_Q2_GLOBAL_TAG | window,
 * v[1] = M in half-mW, v[2] = the readings in the window. Output: key = house, time = t,
 * v[0] = window, v[1] = percentage in hundredths, rounded half away from zero.
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
