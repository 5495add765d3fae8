/*
 * apps/debs14/q1.h: Query 1, load prediction, as an operator of the engine.
 *
 * Input: the accepted load rows as events, keyed by house (key = house_id,
 * time = timestamp, v[0] = household_id << 32 | plug_id, v[1] = load in mW). Every house
 * is one record of keyed state, so a house's plugs live together and the house average
 * can add its plugs' averages in (household, plug) order, as the spec demands.
 *
 * Time: the operator relies on the DEBS source's watermarks: before the first row of a new
 * second T the source emits the watermark T - 1, and at the end the largest load timestamp.
 * Its one upstream instance delivers rows and watermarks in that order, so when
 * on_watermark(w) runs, exactly the rows with ts <= w have been applied: the update points
 * b <= w + 1 are reached and computed from exactly the readings before them. At the end
 * (watermark +inf) the final update point, largest timestamp + 1, is computed unless it
 * was a grid point already reached.
 *
 * Output: port 2*s is the house stream of slice size s (0..4: 1, 5, 15, 60, 120 minutes),
 * port 2*s + 1 its plug stream. An output event: time = b (later than every watermark
 * this operator has passed on, as it must be: b > the previous watermark + 1), key = house, v[0] = household << 32 |
 * plug (0 for a house row), v[1] = ts of the predicted slice, v[2] = the prediction in mW
 * as the bits of a double. The ordered sink then writes update points in time order and
 * rows of one update point by house, household, plug.
 */
#ifndef STROM_APPS_DEBS14_Q1_H
#define STROM_APPS_DEBS14_Q1_H

#include <stdint.h>
#include <stdio.h>

#include "strom/operator.h"

#define STROM_Q1_SIZES 5
extern const int64_t strom_q1_slice_seconds[STROM_Q1_SIZES];

struct strom_q1_conf {
    int64_t t0; /* the epoch of slices and update points */
};

/* Add with parallelism p and arg = struct strom_q1_conf *; input by key from the source. */
extern const struct strom_operator strom_q1_op;

/* The prediction of an output event, in mW. */
double strom_q1_event_prediction(const struct strom_event *ev);

/* Sink formats: "ts,house_id,predicted_load" and "ts,house_id,household_id,plug_id,
 * predicted_load" with the load in W, %.3f. */
int strom_q1_format_house(FILE *f, const struct strom_event *ev, void *arg);
int strom_q1_format_plug(FILE *f, const struct strom_event *ev, void *arg);

#endif
