/* cpu-jitter.c: how steady is this machine's CPU for frame-sized work?
 *
 *   cpu-jitter [--runs N] [--work-ms MS] [--idle-ms MS]
 *
 * Runs the same fixed piece of arithmetic N times (about MS milliseconds
 * each on a quiet core, calibrated first), sleeping IDLE milliseconds in
 * between, the way a window's frame work alternates with waiting for the
 * next frame.  Prints the median, p99, p99.9 and maximum of each run's
 * wall time and of its thread CPU time, and their ratios to the median.
 * On a machine that runs the same work at the same speed the maximum stays
 * near the median; a virtual machine whose host takes its cores away, or
 * lets them sleep deeply while idle, shows maxima many times the median —
 * a floor under any main-loop latency a program can promise there (see
 * README.md, "Responsiveness"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_ms (clockid_t clock)
{
  struct timespec t;

  clock_gettime (clock, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
compare (const void *a,
         const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static volatile double sink;

static void
work (long steps)
{
  double acc = 0.0;

  for (long k = 0; k < steps; k++)
    acc += (double) k * 1e-9;
  sink = acc;
}

static void
report (const char *what,
        double     *v,
        int         n)
{
  double median;

  qsort (v, (size_t) n, sizeof *v, compare);
  median = v[n / 2];
  printf ("%-5s median %7.3f ms  p99 %7.3f (%4.1fx)  p99.9 %7.3f (%4.1fx)  max %7.3f ms (%4.1fx)\n",
          what, median, v[n * 99 / 100], v[n * 99 / 100] / median, v[n * 999 / 1000],
          v[n * 999 / 1000] / median, v[n - 1], v[n - 1] / median);
}

int
main (int    argc,
      char **argv)
{
  int runs = 3000;
  double work_ms = 1.0, idle_ms = 2.0, best = 1e9;
  long steps = 100000;
  double *cpu, *wall;
  struct timespec idle;

  for (int i = 1; i + 1 < argc; i += 2)
    {
      if (strcmp (argv[i], "--runs") == 0)
        runs = atoi (argv[i + 1]);
      else if (strcmp (argv[i], "--work-ms") == 0)
        work_ms = atof (argv[i + 1]);
      else if (strcmp (argv[i], "--idle-ms") == 0)
        idle_ms = atof (argv[i + 1]);
      else
        {
          fprintf (stderr, "usage: cpu-jitter [--runs N] [--work-ms MS] [--idle-ms MS]\n");
          return 2;
        }
    }
  if (runs < 10 || work_ms <= 0 || idle_ms < 0)
    {
      fprintf (stderr, "cpu-jitter: --runs must be at least 10 and the times positive\n");
      return 2;
    }
  /* calibrate on the fastest of a few back-to-back tries */
  for (int i = 0; i < 20; i++)
    {
      double t0 = now_ms (CLOCK_MONOTONIC);

      work (steps);
      if (now_ms (CLOCK_MONOTONIC) - t0 < best)
        best = now_ms (CLOCK_MONOTONIC) - t0;
    }
  steps = (long) (steps * work_ms / (best > 1e-6 ? best : 1e-6));
  cpu = calloc ((size_t) runs, sizeof *cpu);
  wall = calloc ((size_t) runs, sizeof *wall);
  if (cpu == NULL || wall == NULL)
    return 1;
  idle.tv_sec = (time_t) (idle_ms / 1e3);
  idle.tv_nsec = (long) ((idle_ms - idle.tv_sec * 1e3) * 1e6);
  for (int i = 0; i < runs; i++)
    {
      double c0 = now_ms (CLOCK_THREAD_CPUTIME_ID), w0 = now_ms (CLOCK_MONOTONIC);

      work (steps);
      cpu[i] = now_ms (CLOCK_THREAD_CPUTIME_ID) - c0;
      wall[i] = now_ms (CLOCK_MONOTONIC) - w0;
      if (idle_ms > 0)
        nanosleep (&idle, NULL);
    }
  printf ("%d runs of the same work (%.2f ms when calibrated), %.1f ms idle between\n",
          runs, work_ms, idle_ms);
  report ("wall", wall, runs);
  report ("cpu", cpu, runs);
  free (cpu);
  free (wall);
  return 0;
}
