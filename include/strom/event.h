/*
 * strom/event.h: the unit of data.
 *
 * An event is a fixed-size record: a routing key, an event time and three 64-bit payload
 * words whose meaning belongs to the operators that exchange it. Fixed size keeps batches
 * flat arrays that move between threads, processes and enclaves without serialization.
 * Three words because the DEBS rows need them: a plug is three 32-bit ids, and an output
 * row carries its position, its own timestamp and a value.
 *
 * Event time is in the job's own unit (DEBS: Unix seconds). A watermark w promises that no
 * event with time <= w will follow on that channel; timers with time <= w fire.
 */
#ifndef STROM_EVENT_H
#define STROM_EVENT_H

#include <stdint.h>

#define STROM_TIME_MIN INT64_MIN
#define STROM_TIME_MAX INT64_MAX

struct strom_event {
    uint64_t key;  /* routing key: decides the key group on keyed edges */
    int64_t time;  /* event time */
    int64_t v[3];  /* payload */
};

#endif
