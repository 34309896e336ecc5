/* base/clock.h: a monotonic clock for progress lines, statistics and benchmarks. */
#ifndef BASE_CLOCK_H
#define BASE_CLOCK_H

/* Seconds since an arbitrary fixed origin (CLOCK_MONOTONIC); never goes back. */
double base_now(void);

#endif
